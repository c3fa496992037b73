import { createElement, memo, startTransition, useEffect, useState, type ComponentType } from 'react';

/**
 * Spreads chart updates over time so the main thread never does one long task: charts update one at
 * a time, each as a transition (React renders it in ~5 ms slices and yields in between), and the next
 * chart starts only after the previous one committed and an animation frame passed (Recharts applies
 * its internal store updates in requestAnimationFrame). A chart queued again before its turn keeps its
 * place and takes the newest value.
 */
const queue = new Map<object, () => void>();
let busy: object | null = null;
let running = false;
let fallback: ReturnType<typeof setTimeout> | null = null;

function afterFrame(fn: () => void): void {
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    setTimeout(fn, 0);
  };
  requestAnimationFrame(go);
  setTimeout(go, 250); // hidden tabs get no frames: do not stall
}

function next(): void {
  const first = queue.entries().next();
  if (first.done) {
    running = false;
    return;
  }
  const [key, job] = first.value;
  queue.delete(key);
  busy = key;
  // If the render never commits (unmounted, or nothing changed), move on anyway.
  fallback = setTimeout(() => finished(key), 1000);
  job();
}

function finished(key: object): void {
  if (busy !== key) return;
  busy = null;
  if (fallback !== null) clearTimeout(fallback);
  fallback = null;
  afterFrame(next);
}

function enqueueRender(key: object, job: () => void): void {
  queue.set(key, job);
  if (!running) {
    running = true;
    setTimeout(next, 0);
  }
}

function cancelRender(key: object): void {
  queue.delete(key);
}

/** `value`, updated in its turn (see above) rather than in the render that changed it. */
function useStaggered<T>(value: T): T {
  const [shown, setShown] = useState(value);
  const [key] = useState(() => ({}));
  useEffect(() => {
    if (Object.is(value, shown)) return;
    enqueueRender(key, () => startTransition(() => setShown(value)));
    return () => cancelRender(key);
  }, [value, shown, key]);
  useEffect(() => finished(key), [shown, key]);
  return shown;
}

/** Wraps a chart so that its props reach it through useStaggered (and it re-renders only when they changed). */
export function staggered<P extends object>(Component: ComponentType<P>): ComponentType<P> {
  const Inner = memo(Component);
  const Outer = (props: P) => createElement(Inner, useStaggered(props));
  Outer.displayName = `Staggered(${Component.displayName ?? Component.name})`;
  return memo(Outer);
}
