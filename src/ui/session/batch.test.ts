import { describe, expect, it } from 'vitest';
import { ablationBatch } from '../state/ablations';
import { presetById } from '../state/form';
import { afterRun, batchRef, beginBatch, cancelBatch, itemLabel, MAX_SEEDS_PER_ARM, seededItems } from './batch';

const form = presetById('quick').form;
const items = ablationBatch(form, ['lrpet', 'no-et', 'dense']);

describe('ablation batch sequencing', () => {
  it('a finished run starts the next item; after the last the batch is done', () => {
    let b = beginBatch('b1', items, form);
    expect(batchRef(b)).toEqual({ id: 'b1', label: 'LRPET', arm: 'lrpet', seed: form.seed, seeds: 1 });
    expect(batchRef(b, 'local folder /d')).toMatchObject({ data: 'local folder /d' });
    const seen: string[] = [];
    for (let i = 0; i < items.length; i++) {
      const r = afterRun(b, { id: `r${i}`, ended: 'finished', batch: batchRef(b) });
      b = r.batch;
      if (r.next) seen.push(r.next.label);
      expect(r.over).toBe(i === items.length - 1);
    }
    expect(seen).toEqual(['No energy transfer', 'Dense baseline']);
    expect(b).toMatchObject({ status: 'done', runIds: ['r0', 'r1', 'r2'], base: form });
  });

  it('a stopped or failed run ends the batch and says which', () => {
    const b = beginBatch('b1', items, form);
    const stopped = afterRun(b, { id: 'r0', ended: 'stopped', batch: batchRef(b) });
    expect(stopped).toMatchObject({ next: null, over: true, batch: { status: 'cancelled', message: 'stopped: “LRPET” ended early', runIds: ['r0'] } });
    expect(afterRun(b, { id: 'r0', ended: 'error', batch: batchRef(b) }).batch.message).toBe('stopped: “LRPET” ended with an error');
  });

  it('"stop after this run" keeps its message when that run ends; runs of other batches are not counted', () => {
    const b = cancelBatch(beginBatch('b1', items, form));
    expect(b).toMatchObject({ status: 'cancelled', message: 'no further runs will start' });
    expect(cancelBatch(b)).toBe(b);
    expect(afterRun(b, { id: 'r0', ended: 'finished', batch: batchRef(b) })).toMatchObject({ next: null, over: true, batch: { message: 'no further runs will start', runIds: ['r0'] } });
    expect(afterRun(b, { id: 'x', ended: 'finished', batch: { id: 'other', label: 'LRPET' } })).toEqual({ batch: b, next: null, over: false });
    expect(afterRun(b, { id: 'x', ended: 'finished', batch: null }).over).toBe(false);
  });

  it('seeds per arm: every arm with seed s, then every arm with s+1, …; only the seed changes', () => {
    const arms = ablationBatch({ ...form, seed: 40 }, ['lrpet', 'no-et']);
    const items = seededItems(arms, 3);
    expect(items.map((i) => `${i.id}@${i.seed}`)).toEqual(['lrpet@40', 'no-et@40', 'lrpet@41', 'no-et@41', 'lrpet@42', 'no-et@42']);
    for (const i of items) {
      const arm = arms.find((a) => a.id === i.id)!;
      expect(i.form).toEqual({ ...arm.form, seed: i.seed });
      expect(i.config).toEqual({ ...arm.config, seed: i.seed });
    }
    expect(seededItems(arms, 1)).toEqual(arms.map((a) => ({ ...a, seed: 40 })));
    for (const bad of [0, MAX_SEEDS_PER_ARM + 1, 1.5]) expect(() => seededItems(arms, bad)).toThrow(/seeds per arm must be a whole number from 1 to 5/);

    let b = beginBatch('b2', arms, form, 3);
    expect(b.items).toEqual(items);
    expect(itemLabel(b, b.items[3])).toBe('No energy transfer · seed 41');
    expect(itemLabel({ seeds: 1 }, items[2])).toBe('LRPET');
    const refs = [];
    for (let i = 0; i < items.length; i++) {
      refs.push(batchRef(b));
      b = afterRun(b, { id: `r${i}`, ended: 'finished', batch: batchRef(b) }).batch;
    }
    expect(refs.map((r) => [r.arm, r.seed, r.seeds])).toEqual([
      ['lrpet', 40, 3],
      ['no-et', 40, 3],
      ['lrpet', 41, 3],
      ['no-et', 41, 3],
      ['lrpet', 42, 3],
      ['no-et', 42, 3],
    ]);
    expect(b.status).toBe('done');
    const stopped = afterRun(beginBatch('b4', arms, form, 2), { id: 'r', ended: 'stopped', batch: { id: 'b4', label: 'LRPET' } });
    expect(stopped.batch.message).toBe('stopped: “LRPET · seed 40” ended early');
  });
});
