import { describe, expect, it } from 'vitest';
import { Lifecycle } from './lifecycle';

const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 0));
  return done;
};

describe('Lifecycle', () => {
  it('starts once, pauses only while running, and a stop ends a pause', async () => {
    const l = new Lifecycle();
    l.pause();
    expect(l.phase()).toBe('idle');
    l.begin();
    expect(() => l.begin()).toThrow(/started once/);
    l.pause();
    const waiting = l.pausedUntilReleased();
    expect(await settled(waiting)).toBe(false);
    l.stop();
    expect(await settled(waiting)).toBe(true);
    expect(l.phase()).toBe('stopping');
    l.pause();
    expect(l.phase()).toBe('stopping');
    l.finish();
    l.stop();
    expect(l.phase()).toBe('finished');
  });

  it('resume ends the pause; a wait asked for after the resume does not block', async () => {
    const l = new Lifecycle();
    l.begin();
    l.pause();
    const waiting = l.pausedUntilReleased();
    l.resume();
    expect(await settled(waiting)).toBe(true);
    expect(l.phase()).toBe('running');
    l.pause();
    l.resume();
    expect(await settled(l.pausedUntilReleased())).toBe(true);
  });

  it('step() from a pause runs until the loop is between two steps again, then pauses; ignored while running', async () => {
    const l = new Lifecycle();
    l.begin();
    l.step();
    l.stepStarts();
    expect(l.singleStep()).toBe(false);
    l.singleStepDone();
    expect(l.phase()).toBe('running');
    l.pause();
    const waiting = l.pausedUntilReleased();
    l.step();
    expect(await settled(waiting)).toBe(true);
    expect(l.phase()).toBe('running');
    l.stepStarts();
    expect(l.singleStep()).toBe(true);
    l.singleStepDone();
    expect(l.phase()).toBe('paused');
    expect(l.singleStep()).toBe(false);
    // resume() after a step() goes on without pausing.
    l.step();
    l.resume();
    l.stepStarts();
    l.singleStepDone();
    expect(l.phase()).toBe('running');
  });

  it('step() before the start makes the first step a single one; stop() ends it', () => {
    const l = new Lifecycle();
    l.step();
    l.begin();
    l.stepStarts();
    expect(l.singleStep()).toBe(true);
    l.stop();
    l.singleStepDone();
    expect(l.phase()).toBe('stopping');
  });
});
