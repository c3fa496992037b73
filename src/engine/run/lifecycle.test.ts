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
});
