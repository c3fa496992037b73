import { describe, expect, it } from 'vitest';
import { ablationBatch } from '../state/ablations';
import { presetById } from '../state/form';
import { afterRun, batchRef, beginBatch, cancelBatch } from './batch';

const form = presetById('quick').form;
const items = ablationBatch(form, ['lrpet', 'no-et', 'dense']);

describe('ablation batch sequencing', () => {
  it('a finished run starts the next item; after the last the batch is done', () => {
    let b = beginBatch('b1', items, form);
    expect(batchRef(b)).toEqual({ id: 'b1', label: 'LRPET' });
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
});
