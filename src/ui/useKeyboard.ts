import { useEffect } from 'react';
import type { Phase } from './state/store';

/** Where Space already means something (press a button, tick a box, type, open a list, move a slider…): the shortcut leaves it alone. */
const SPACE_OWNERS = [
  'input',
  'textarea',
  'select',
  'button',
  'a[href]',
  'summary',
  '[contenteditable]:not([contenteditable="false"])',
  '[role="button"]',
  '[role="checkbox"]',
  '[role="radio"]',
  '[role="switch"]',
  '[role="slider"]',
  '[role="tab"]',
  '[role="option"]',
  '[role="menuitem"]',
  '[role="textbox"]',
  '[role="combobox"]',
].join(',');

/** Space pauses a training run and resumes a paused one — unless the focus is on something Space operates. */
export function useSpaceToPause(phase: Phase, controls: { pause: () => void; resume: () => void }): void {
  useEffect(() => {
    if (phase !== 'running' && phase !== 'paused') return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== ' ' || e.repeat || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
      if (e.target instanceof Element && e.target.closest(SPACE_OWNERS)) return;
      e.preventDefault(); // no page scroll
      if (phase === 'running') controls.pause();
      else controls.resume();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [phase, controls]);
}
