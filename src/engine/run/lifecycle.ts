export type Phase = 'idle' | 'running' | 'paused' | 'stopping' | 'finished';

/**
 * Resolves in a later task, so messages (pause, stop, updates) get in between two steps — also on
 * backends whose reads resolve as microtasks (tfjs CPU). A message on a fresh MessageChannel rather
 * than setTimeout(0), which waits at least 1 ms in Node and 4 ms when nested in browsers — time taken
 * from every training step.
 */
export const nextMacrotask = (): Promise<void> =>
  typeof MessageChannel === 'undefined'
    ? new Promise((resolve) => setTimeout(resolve, 0))
    : new Promise((resolve) => {
        const { port1, port2 } = new MessageChannel();
        port1.onmessage = () => {
          port1.close(); // an open port would keep Node's event loop alive
          resolve();
        };
        port2.postMessage(null);
      });

/** A run's phase as start, pause(), resume() and stop() move it, and the wait while paused. */
export class Lifecycle {
  private current: Phase = 'idle';
  private wake: (() => void) | null = null;

  /** A method, not a getter: the phase changes while the loop awaits, and a method keeps the compiler from narrowing it. */
  phase(): Phase {
    return this.current;
  }

  begin(): void {
    if (this.current !== 'idle') throw new Error('a run can be started once');
    this.current = 'running';
  }

  pause(): void {
    if (this.current === 'running') this.current = 'paused';
  }

  resume(): void {
    if (this.current !== 'paused') return;
    this.current = 'running';
    this.release();
  }

  stop(): void {
    if (this.current === 'finished') return;
    const wasPaused = this.current === 'paused';
    this.current = 'stopping';
    if (wasPaused) this.release();
  }

  finish(): void {
    this.current = 'finished';
  }

  /** Resolves when resume() or stop() ends the pause (at once when not paused). */
  pausedUntilReleased(): Promise<void> {
    if (this.current !== 'paused') return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  private release(): void {
    this.wake?.();
    this.wake = null;
  }
}
