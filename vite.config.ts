import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { CSP, datasetMiddleware } from './scripts/serve.mjs';

/** /api/dataset for `vite dev` and `vite preview`: the same code as `npm start`'s server. */
function datasetApi(): Plugin {
  return {
    name: 'lrpet-dataset-api',
    configureServer(server) {
      server.middlewares.use(datasetMiddleware());
    },
    configurePreviewServer(server) {
      server.middlewares.use(datasetMiddleware());
    },
  };
}

/** The built page carries its CSP in a <meta> too (the dev server's inline React preamble would break under it). */
function cspMeta(): Plugin {
  return {
    name: 'lrpet-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP.replace(/; frame-ancestors 'none'/, '') }, injectTo: 'head-prepend' }],
  };
}

export default defineConfig({
  plugins: [react(), datasetApi(), cspMeta()],
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
});
