import { errorText } from '../engine/errors';
/**
 * Picks tfjs's backend inside the worker: WebGPU when navigator.gpu exists and gives an adapter, else
 * WebGL, else the CPU backend, and says which and why. The probing is injected so the decision logic
 * can be unit-tested without a browser.
 */
export type BackendName = 'webgpu' | 'webgl' | 'cpu';
export type BackendPreference = 'auto' | BackendName;

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface BackendInfo {
  backend: BackendName;
  /** One or two sentences: why this backend. */
  reason: string;
  /** GPU adapter (WebGPU) or renderer string (WebGL), for display. */
  device: string | null;
  adapter: AdapterDescription | null;
  /** True when the "GPU" is a software rasteriser on the CPU (SwiftShader, llvmpipe, ...) or the CPU backend. */
  software: boolean;
  /** 'SwiftShader', 'llvmpipe', ... when recognised. */
  softwareName: string | null;
  /** What was tried before, e.g. "webgpu: navigator.gpu is missing". */
  attempts: { backend: BackendName; ok: boolean; message: string }[];
}

export interface BackendProbe {
  hasNavigatorGpu(): boolean;
  /** Resolves null when requestAdapter() gives none; rejects on errors. */
  requestAdapter(): Promise<AdapterDescription | null>;
  /** tf.setBackend(name) and tf.ready(); resolves false (or rejects) when the backend cannot start. */
  setBackend(name: BackendName): Promise<boolean>;
  /** The WebGL renderer string (unmasked when allowed), after the webgl backend started. */
  webglRenderer(): string | null;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i;

export function softwareName(text: string): string | null {
  const m = SOFTWARE.exec(text);
  if (!m) return null;
  const k = m[0].toLowerCase();
  if (k === 'swiftshader') return 'SwiftShader';
  if (k === 'llvmpipe') return 'llvmpipe';
  if (k === 'lavapipe') return 'lavapipe';
  if (k === 'softpipe') return 'softpipe';
  if (k === 'warp' || k === 'basic render') return 'Microsoft Basic Render (WARP)';
  return 'a software renderer';
}

function describeAdapter(a: AdapterDescription): string {
  const parts = [a.vendor, a.architecture, a.device, a.description].filter((s) => s && s.trim());
  return [...new Set(parts)].join(' · ') || 'unnamed adapter';
}

export async function chooseBackend(probe: BackendProbe, preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  const attempts: BackendInfo['attempts'] = [];
  const order: BackendName[] = preference === 'auto' ? ['webgpu', 'webgl', 'cpu'] : [preference, ...(['webgpu', 'webgl', 'cpu'] as const).filter((b) => b !== preference)];
  const tryStart = async (name: BackendName): Promise<boolean> => {
    try {
      if (await probe.setBackend(name)) return true;
      attempts.push({ backend: name, ok: false, message: `tfjs could not start its ${name} backend` });
    } catch (e) {
      attempts.push({ backend: name, ok: false, message: `tfjs's ${name} backend failed: ${errorText(e)}` });
    }
    return false;
  };

  for (const name of order) {
    if (name === 'webgpu') {
      if (!probe.hasNavigatorGpu()) {
        attempts.push({ backend: 'webgpu', ok: false, message: 'navigator.gpu is missing: this browser (or its settings) offers no WebGPU' });
        continue;
      }
      let adapter: AdapterDescription | null;
      try {
        adapter = await probe.requestAdapter();
      } catch (e) {
        attempts.push({ backend: 'webgpu', ok: false, message: `requestAdapter() failed: ${errorText(e)}` });
        continue;
      }
      if (!adapter) {
        attempts.push({ backend: 'webgpu', ok: false, message: 'navigator.gpu exists but requestAdapter() gave no adapter (GPU blocked, disabled or absent)' });
        continue;
      }
      if (!(await tryStart('webgpu'))) continue;
      const device = describeAdapter(adapter);
      const soft = softwareName(device) ?? (adapter.isFallbackAdapter ? 'a fallback (software) adapter' : null);
      attempts.push({ backend: 'webgpu', ok: true, message: `adapter: ${device}` });
      return {
        backend: 'webgpu',
        reason: soft
          ? `WebGPU is available, but its adapter is ${soft}: a software renderer running on the CPU, not a GPU.`
          : preference === 'webgpu' || preference === 'auto'
            ? 'WebGPU is available with a hardware adapter.'
            : `WebGPU (the ${preference} backend did not start).`,
        device,
        adapter,
        software: soft !== null,
        softwareName: soft,
        attempts,
      };
    }
    if (name === 'webgl') {
      if (!(await tryStart('webgl'))) continue;
      const device = probe.webglRenderer();
      const soft = device ? softwareName(device) : null;
      attempts.push({ backend: 'webgl', ok: true, message: `renderer: ${device ?? 'unknown'}` });
      const why = attempts.filter((a) => a.backend === 'webgpu' && !a.ok).map((a) => a.message)[0];
      return {
        backend: 'webgl',
        reason: `${why ? `No WebGPU (${why}), so WebGL.` : 'WebGL, as chosen.'}${soft ? ` Its renderer is ${soft}: software on the CPU, not a GPU.` : ''}`,
        device,
        adapter: null,
        software: soft !== null,
        softwareName: soft,
        attempts,
      };
    }
    if (await tryStart('cpu')) {
      attempts.push({ backend: 'cpu', ok: true, message: 'plain JavaScript' });
      const failed = attempts.filter((a) => !a.ok).map((a) => a.message);
      return {
        backend: 'cpu',
        reason: `${failed.length ? `Neither WebGPU nor WebGL could be used (${failed.join('; ')}), so` : 'As chosen,'} tfjs's CPU backend (plain JavaScript): very slow.`,
        device: null,
        adapter: null,
        software: true,
        softwareName: 'the CPU backend',
        attempts,
      };
    }
  }
  throw new Error(`no tfjs backend could start: ${attempts.map((a) => a.message).join('; ')}`);
}
