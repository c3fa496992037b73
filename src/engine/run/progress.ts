/** Where a run is and what it has summed so far: the scalars a checkpoint holds besides RNG states. */
export class RunProgress {
  /** Optimiser steps done in the whole run. */
  iteration = 0;
  epoch = 0;
  /** Steps done in `epoch`. */
  step = 0;
  projections = 0;
  lastProjectionIteration = -1;
  /** The current epoch's training loss (summed per image), hits and images. */
  epochSums = { loss: 0, hits: 0, seen: 0 };
  /** Loss of the run's first applied step, the reference of the exploding-loss check. */
  firstLoss: number | null = null;
  /** Post-hoc: test accuracy right after its one projection (the final compact event reports it). */
  denseTestAccuracy: number | null = null;

  stepDone(loss: number, hits: number, images: number): void {
    this.iteration++;
    this.step++;
    this.epochSums.loss += loss * images;
    this.epochSums.hits += hits;
    this.epochSums.seen += images;
    this.firstLoss ??= loss;
  }

  projected(): void {
    this.lastProjectionIteration = this.iteration;
    this.projections++;
  }

  /** The epoch's training loss and accuracy. */
  epochMeans(): { loss: number; accuracy: number } {
    const s = this.epochSums;
    return { loss: s.loss / Math.max(1, s.seen), accuracy: s.hits / Math.max(1, s.seen) };
  }

  nextEpoch(): void {
    this.epoch++;
    this.step = 0;
    this.epochSums = { loss: 0, hits: 0, seen: 0 };
  }
}
