import { memo, useEffect, useState, type ComponentType } from 'react';
import { createElement } from 'react';
import { flushSync } from 'react-dom';

/**
 * Spreads chart updates over separate tasks so the main thread never does one long one: each queued
 * update renders one chart (flushSync, in its own task), then the queue waits for the next animation
 * frame (Recharts commits its internal store in requestAnimationFrame) before the next chart. A chart
 * queued again before its turn keeps its place and takes the newest value.
 */
const queue = new Map<object, () => void>();
let running = false;

function next(): void {
  const first = queue.entries().next();
  if (first.done) {
    running = false;
    return;
  }
  const [key, job] = first.value;
  queue.delete(key);
  try {
    job();
  } finally {
    let done = false;
    const go = () => {
      if (done) return;
      done = true;
      setTimeout(next, 0);
    };
    requestAnimationFrame(go);
    // Hidden tabs get no frames: do not stall forever.
    setTimeout(go, 250);
  }
}

export function enqueueRender(key: object, job: () => void): void {
  queue.set(key, job);
  if (!running) {
    running = true;
    setTimeout(next, 0);
  }
}

export function cancelRender(key: object): void {
  queue.delete(key);
}

/** `value`, updated in its own task (see above) rather than in the render that changed it. */
export function useStaggered<T>(value: T): T {
  const [shown, setShown] = useState(value);
  const [key] = useState(() => ({}));
  useEffect(() => {
    if (Object.is(value, shown)) return;
    enqueueRender(key, () => flushSync(() => setShown(value)));
    return () => cancelRender(key);
  }, [value, shown, key]);
  return shown;
}

/** Wraps a chart so that its props reach it through useStaggered (and it re-renders only when they changed). */
export function staggered<P extends object>(Component: ComponentType<P>): ComponentType<P> {
  const Inner = memo(Component);
  const Outer = (props: P) => createElement(Inner, useStaggered(props));
  Outer.displayName = `Staggered(${Component.displayName ?? Component.name})`;
  return memo(Outer);
}
