import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../engine/config';
import { presetById, toRunConfig } from '../ui/state/form';
import { parseCli, trainConfig } from './args';

const cliConfig = (args: string[]) => parseRunConfig(trainConfig(parseCli(['train', ...args]).values));

describe('trainConfig', () => {
  it.each([1, 2, 3, 4, 6, 400])('a step schedule of %i epochs has the same milestones as the page', (epochs) => {
    const page = parseRunConfig(toRunConfig({ ...presetById('paper').form, epochs, schedule: 'step' }));
    const cli = cliConfig(['--model', 'resnet20', '--epochs', String(epochs), '--schedule', 'step']);
    expect(cli.schedule).toEqual(page.schedule);
  });

  it('a 2-epoch run lowers the lr at epoch 1 (½ and ¾ of the run, rounded)', () => {
    expect(cliConfig(['--model', 'resnet20', '--epochs', '2']).schedule).toEqual({ kind: 'step', milestones: [1, 2], gamma: 0.1 });
  });
});
