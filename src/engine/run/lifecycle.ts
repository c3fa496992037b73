export type LoopPhase = 'idle' | 'running' | 'paused' | 'stopping' | 'finished';

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

/**
 * A run's phase as start, pause(), resume(), step() and stop() move it, and the wait while paused.
 * step() runs one step from a pause (or from the start, when asked before it) and pauses again: it is
 * 'asked' until the loop starts that step (stepStarts), 'taken' until the loop is between two steps
 * again (singleStepDone), which then pauses.
 */
export class Lifecycle {
  private current: LoopPhase = 'idle';
  private wake: (() => void) | null = null;
  private single: 'asked' | 'taken' | null = null;

  /** A method, not a getter: the phase changes while the loop awaits, and a method keeps the compiler from narrowing it. */
  phase(): LoopPhase {
    return this.current;
  }

  begin(): void {
    if (this.current !== 'idle') throw new Error('a run can be started once');
    this.current = 'running';
  }

  pause(): void {
    if (this.current === 'running') this.current = 'paused';
  }

  /** Goes on training; during a single step (step()), it goes on after it instead of pausing. */
  resume(): void {
    this.single = null;
    if (this.current !== 'paused') return;
    this.current = 'running';
    this.release();
  }

  /** One step, then paused again: from a pause, or, before the start, as the run's first step. Ignored otherwise. */
  step(): void {
    if (this.current === 'idle') this.single = 'asked';
    if (this.current !== 'paused') return;
    this.single = 'asked';
    this.current = 'running';
    this.release();
  }

  /** The loop starts a step (it is running): a single step asked for is now under way. */
  stepStarts(): void {
    if (this.single === 'asked') this.single = 'taken';
  }

  /** Whether the step under way is a single step (step()). */
  singleStep(): boolean {
    return this.single === 'taken';
  }

  /** The loop is between two steps: after a single step the run pauses. */
  singleStepDone(): void {
    if (this.single !== 'taken') return;
    this.single = null;
    this.pause();
  }

  stop(): void {
    if (this.current === 'finished') return;
    const wasPaused = this.current === 'paused';
    this.single = null;
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
