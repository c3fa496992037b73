import { stepsPerEpoch } from '../../engine/data/batcher';
import type { RunStartEvent } from '../../engine/events';
import type { FormState } from './form';

export interface RunSize {
  /** Training and test images the run uses. */
  train: number;
  test: number;
  stepsPerEpoch: number;
}

/**
 * How big a run of the form is on the data at hand, by the engine's rules (a limit cuts the dataset,
 * never extends it; the last batch of an epoch may be short); a started run's own numbers once it
 * reported them. Null while the data is unknown.
 */
export function runSize(form: Pick<FormState, 'trainLimit' | 'testLimit' | 'batchSize'>, counts: { train: number; test: number } | null, started: RunStartEvent | null): RunSize | null {
  if (started) return { train: started.trainSize, test: started.testSize, stepsPerEpoch: started.stepsPerEpoch };
  if (!counts) return null;
  const train = Math.min(form.trainLimit ?? counts.train, counts.train);
  const test = Math.min(form.testLimit ?? counts.test, counts.test);
  return { train, test, stepsPerEpoch: stepsPerEpoch(train, form.batchSize) };
}
