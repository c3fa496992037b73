import type { ProjectionEvent } from '../../engine/events';

/**
 * Where the projection scrubber stands: a projection's number (ProjectionEvent.index, 1-based), or null to
 * follow the latest. A number, not a place in the list: past MAX_SPECTRA projections the kept history is
 * thinned at every new one, and a paused scrub must stay on the projection it shows.
 */
export type Scrub = number | null;

/**
 * The place in `spectra` the scrub shows: the projection with its number, or, where thinning dropped it,
 * the kept one before it (else the first); the latest when following. -1 when there are none.
 */
export function scrubPosition(spectra: readonly ProjectionEvent[], scrub: Scrub): number {
  if (!spectra.length) return -1;
  if (scrub === null) return spectra.length - 1;
  let at = 0;
  for (let i = 0; i < spectra.length && spectra[i].index <= scrub; i++) at = i;
  return at;
}

/** The scrub for a place in the list (the slider's value): the last place follows the latest. */
export const scrubAt = (spectra: readonly ProjectionEvent[], position: number): Scrub => (position >= spectra.length - 1 ? null : spectra[Math.max(0, position)].index);
