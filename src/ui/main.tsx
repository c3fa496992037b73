import '../worker/zod-setup';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// The base styles first: each component's own (imported with it) come after them.
import './styles.css';
import { App } from './App';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
