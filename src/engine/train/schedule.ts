import type { LrSchedule } from '../settings';

/** Learning rate at a (fractional) epoch: step decay at milestones, or per-iteration cosine. */
export function learningRate(baseLr: number, schedule: LrSchedule, epoch: number, progress: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * schedule.gamma ** schedule.milestones.filter((m) => epoch >= m).length;
    case 'cosine':
      return schedule.minLr + ((baseLr - schedule.minLr) * (1 + Math.cos(Math.PI * Math.min(1, progress)))) / 2;
  }
}

/** The paper's step schedule (×0.1 at 1/2 and 3/4 of the run: 200 and 300 of 400 epochs), scaled to any run length. */
export function paperMilestones(epochs: number): number[] {
  return [Math.round(epochs / 2), Math.round((epochs * 3) / 4)];
}

export type LrScheduleKind = LrSchedule['kind'];

/** The schedule a kind names, for a run of `epochs`: step is the paper's (×0.1 at ½ and ¾), cosine decays to 0. */
export function scheduleOfKind(kind: LrScheduleKind, epochs: number): LrSchedule {
  if (kind === 'step') return { kind, milestones: paperMilestones(epochs), gamma: 0.1 };
  return kind === 'cosine' ? { kind, minLr: 0 } : { kind };
}
