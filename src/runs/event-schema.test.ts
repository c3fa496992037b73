import '../worker/zod-setup';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS } from '../engine/events';
import { checkEvent } from './event-schema';
import { sampleEvents } from './testing/sample-events';

describe('checkEvent', () => {
  it('accepts every kind of engine event after a JSON round trip, unchanged', () => {
    const events = sampleEvents(2, 2);
    // Every kind but error (checked below).
    expect([...new Set(events.map((e) => e.type))].sort()).toEqual(Object.keys(EVENT_SCHEMAS).filter((k) => k !== 'error').sort());
    for (const e of events) expect(checkEvent(JSON.parse(JSON.stringify(e)))).toEqual({ ok: true, event: e });
    const error = { type: 'error', time: 1, code: 'exploding', message: 'loss exploded', iteration: 3, epoch: 0 };
    expect(checkEvent(error)).toEqual({ ok: true, event: error });
  });

  it('reads JSON nulls in number fields back as NaN and keeps unknown keys', () => {
    const step = { type: 'step', time: 1, iteration: 1, epoch: 0, loss: null, accuracy: 0, lr: 0.1, imagesPerSec: 1, stepMs: 1, numTensors: 1, addedLater: { x: 1 } };
    const r = checkEvent(step);
    expect(r.ok && r.event).toMatchObject({ loss: NaN, addedLater: { x: 1 } });
    const proj = JSON.parse(JSON.stringify(sampleEvents(1, 1).find((e) => e.type === 'projection')));
    proj.layers[0].sigmaBefore[1] = null;
    const p = checkEvent(proj);
    expect(p.ok && p.event.type === 'projection' && p.event.layers[0].sigmaBefore[1]).toBeNaN();
    // The same in gradient norms (a layer whose norm overflowed, or 0/0).
    const grads = JSON.parse(JSON.stringify(sampleEvents(1, 1).find((e) => e.type === 'gradNorms')));
    grads.ratio[1] = null;
    const g = checkEvent(grads);
    expect(g.ok && g.event.type === 'gradNorms' && g.event.ratio[1]).toBeNaN();
    // A projection's test accuracy may be null (not evaluated): that null stays null.
    proj.testAccuracy = null;
    const q = checkEvent(proj);
    expect(q.ok && q.event.type === 'projection' && q.event.testAccuracy).toBeNull();
  });

  it('names the event type and the field that is wrong', () => {
    expect(checkEvent({ type: 'epoch', time: 1 })).toMatchObject({ ok: false, known: true, message: expect.stringMatching(/^epoch event, field 'epoch': .*expected number, received undefined/) });
    expect(checkEvent({ type: 'log', time: 1, level: 'debug', message: '' })).toMatchObject({ ok: false, known: true, message: expect.stringMatching(/^log event, field 'level'/) });
    expect(checkEvent({ type: 'gradNorms', time: 1, iteration: 2, epoch: 0, reasons: [], grad: [], ratio: [] })).toMatchObject({ ok: false, known: true, message: expect.stringMatching(/^gradNorms event, field 'reasons'/) });
    expect(checkEvent({ type: 'gradNorms', time: 1, iteration: 2, epoch: 0, reasons: ['later'], grad: [], ratio: [] })).toMatchObject({ ok: false, message: expect.stringMatching(/field 'reasons\[0\]'/) });
    expect(checkEvent({ type: 'nope' })).toEqual({ ok: false, known: false, message: "unknown event type 'nope'" });
    expect(checkEvent({ type: 'toString' })).toEqual({ ok: false, known: false, message: "unknown event type 'toString'" });
    expect(checkEvent(null)).toEqual({ ok: false, known: false, message: 'not an event object' });
  });
});
