import { describe, expect, it } from 'vitest';
import type { ProjectionEvent } from '../../engine/events';
import { scrubAt, scrubPosition } from './scrub';
import { initialRunState, MAX_SPECTRA, runReducer, type RunState } from './store';
import { eventParts } from './worker-batch';

const projection = (index: number): ProjectionEvent => ({ type: 'projection', time: index, index, iteration: index * 4, epoch: 0, projectionMs: 1, testAccuracy: null, layers: [] });

/** The reducer's kept spectra after `count` projections, one per batch (it thins the history at every one past MAX_SPECTRA). */
function after(count: number, s: RunState = initialRunState(), from = 1): RunState {
  for (let i = from; i < from + count; i++) s = runReducer(s, { type: 'batch', parts: eventParts([projection(i)]), at: i });
  return s;
}

describe('the projection scrubber', () => {
  it('a paused scrub stays on its projection while new ones thin the history (past MAX_SPECTRA projections)', () => {
    let s = after(MAX_SPECTRA + 20);
    expect(s.spectra.length).toBe(MAX_SPECTRA);
    // The user drags the slider to place 150 of the kept history and leaves it there.
    const scrub = scrubAt(s.spectra, 150);
    const shown = s.spectra[scrubPosition(s.spectra, scrub)].index;
    expect(scrub).toBe(shown);
    for (let k = 0; k < 30; k++) {
      s = after(1, s, MAX_SPECTRA + 21 + k);
      const now = s.spectra[scrubPosition(s.spectra, scrub)];
      // The same projection while it is kept; where thinning dropped it, the kept one just before it.
      const kept = s.spectra.some((p) => p.index === shown);
      if (kept) expect(now.index).toBe(shown);
      else expect(now.index).toBe(Math.max(...s.spectra.filter((p) => p.index < shown).map((p) => p.index)));
      expect(Math.abs(now.index - shown)).toBeLessThanOrEqual(5);
    }
  });

  it('follows the latest at the end of the slider and with no scrub', () => {
    const s = after(5);
    expect(scrubAt(s.spectra, 4)).toBeNull();
    expect(scrubPosition(s.spectra, null)).toBe(4);
    expect(scrubPosition(s.spectra, scrubAt(s.spectra, 2))).toBe(2);
    expect(scrubPosition([], 3)).toBe(-1);
  });
});
