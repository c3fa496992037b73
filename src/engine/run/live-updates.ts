import { LiveUpdateSchema, applyLiveUpdate, type LiveUpdate, type RunConfig } from '../config';
import type { ModelGraph } from '../models/graph';
import { planModel, type ModelPlan } from '../plan';
import type { Emit } from './emit';
import type { RunProgress } from './progress';

/** The part of a run a live change replaces (settings and ranks) and what it needs to do so. */
export interface Updatable {
  config: RunConfig;
  plan: ModelPlan;
  readonly denseGraph: ModelGraph;
  readonly progress: RunProgress;
  readonly emit: Emit;
}

/** Settings changed with update(), applied in order between two steps. */
export class LiveUpdates {
  private readonly queue: LiveUpdate[] = [];

  push(changes: LiveUpdate): void {
    this.queue.push(LiveUpdateSchema.parse(changes));
  }

  /**
   * Applies the queued changes, each announced by a configChange event — or refused with a config
   * error event when the ranks are to change but `rankChangeRefusal` says why they cannot, or the new
   * ranks are impossible.
   */
  applyTo(run: Updatable, rankChangeRefusal: () => string | null): void {
    const at = { iteration: run.progress.iteration, epoch: run.progress.epoch };
    const refuse = (why: string) => run.emit('error', { code: 'config', message: `change not applied: ${why}`, ...at });
    while (this.queue.length) {
      const changes = this.queue.shift()!;
      const rankChange = changes.prune !== undefined || changes.rankOverrides !== undefined || changes.rankMultiple !== undefined;
      const refusal = rankChange ? rankChangeRefusal() : null;
      if (refusal) {
        refuse(`the ranks cannot change, ${refusal}`);
        continue;
      }
      const config = applyLiveUpdate(run.config, changes);
      let plan = run.plan;
      try {
        if (rankChange) plan = planModel(run.denseGraph, { ...config.lrpet });
      } catch (e) {
        refuse((e as Error).message);
        continue;
      }
      run.config = config;
      run.plan = plan;
      run.emit('configChange', { ...at, changes, config, layers: plan.layers });
    }
  }
}
