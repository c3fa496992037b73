import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../engine/config';
import { presetById, toRunConfig } from '../ui/state/form';
import { maxSecondsOption, parseCli, trainConfig } from './args';

const cliConfig = (args: string[]) => parseRunConfig(trainConfig(parseCli(['train', ...args]).values));

describe('trainConfig', () => {
  it.each([1, 2, 3, 4, 6, 400])('a step schedule of %i epochs has the same milestones as the page', (epochs) => {
    const page = parseRunConfig(toRunConfig({ ...presetById('paper').form, epochs, scheduleKind: 'step' }));
    const cli = cliConfig(['--model', 'resnet20', '--epochs', String(epochs), '--schedule', 'step']);
    expect(cli.schedule).toEqual(page.schedule);
  });

  it('a 2-epoch run lowers the lr at epoch 1 (½ and ¾ of the run, rounded)', () => {
    expect(cliConfig(['--model', 'resnet20', '--epochs', '2']).schedule).toEqual({ kind: 'step', milestones: [1, 2], gamma: 0.1 });
  });
});

describe('flags from the settings table', () => {
  it("without flags: the engine's defaults, the paper's recipe (400 epochs, ×0.1 at 200 and 300, weight decay on every parameter)", () => {
    const c = cliConfig(['--model', 'resnet20']);
    expect(c).toEqual(parseRunConfig({ model: 'resnet20' }));
    expect(c).toMatchObject({ epochs: 400, schedule: { kind: 'step', milestones: [200, 300], gamma: 0.1 }, weightDecay: 1e-4, weightDecayScope: 'all', lrpet: { bnRecalibrationBatches: 0 } });
    expect(cliConfig(['--model', 'resnet20', '--epochs', '20']).schedule).toEqual(parseRunConfig({ epochs: 20 }).schedule);
  });

  it('every setting flag lands at its place', () => {
    const c = cliConfig([
      '--model', 'vgg-tiny', '--no-lrpet', '--prune', '0.3', '--rank-floors', '--rank', 'conv1=4', '--rank', 'conv2=5', '--interval', '7',
      '--start-epoch', '1', '--end-epoch', '3', '--no-energy-transfer', '--beta', '0.25', '--no-bn-rect', '--lr', '0.02', '--momentum', '0.8',
      '--weight-decay', '0.0005', '--schedule', 'cosine', '--batch', '64', '--epochs', '4', '--seed', '9', '--train-limit', '100', '--test-limit', '50', '--no-augment',
      '--wd-scope', 'kernels', '--bn-recal', '25',
    ]);
    expect(c).toEqual(
      parseRunConfig({
        model: 'vgg-tiny',
        lrpet: { enabled: false, prune: 0.3, rankFloors: true, rankOverrides: { conv1: 4, conv2: 5 }, interval: 7, startEpoch: 1, endEpoch: 3, energyTransfer: false, beta: 0.25, bnRectification: false, bnRecalibrationBatches: 25 },
        lr: 0.02,
        momentum: 0.8,
        weightDecay: 0.0005,
        weightDecayScope: 'kernels',
        schedule: { kind: 'cosine', minLr: 0 },
        batchSize: 64,
        epochs: 4,
        seed: 9,
        trainLimit: 100,
        testLimit: 50,
        augment: false,
      }),
    );
    expect(cliConfig(['--model', 'resnet20', '--target-params', '0.4']).lrpet.target).toEqual({ metric: 'params', reduction: 0.4 });
  });

  it.each([
    [['--epochs', '0'], '--epochs must be ≥ 1, got 0'],
    [['--epochs', '2.5'], "--epochs must be an integer, got '2.5'"],
    [['--lr', '0'], '--lr must be > 0, got 0'],
    [['--beta', '1'], '--beta must be in [0, 1), got 1'],
    [['--batch', '5000'], '--batch must be in [1, 4096], got 5000'],
    [['--seed', 'x'], "--seed must be a number, got 'x'"],
    [['--schedule', 'linear'], "unknown schedule 'linear' (choose from step, cosine, constant)"],
    [['--wd-scope', 'biases'], "unknown wd-scope 'biases' (choose from all, kernels)"],
    [['--bn-recal=-1'], '--bn-recal must be ≥ 0, got -1'],
    [['--bn-recal', '1.5'], "--bn-recal must be an integer, got '1.5'"],
    [['--target-flops', '0.5', '--target-params', '0.5'], 'give --target-flops or --target-params, not both'],
  ])('rejects %j with a clear message', (args, message) => {
    expect(() => cliConfig(['--model', 'resnet20', ...args])).toThrow(message);
  });

  it('--model is required; an unknown one lists the choices', () => {
    expect(() => cliConfig([])).toThrow('--model is required');
    expect(() => cliConfig(['--model', 'resnet99'])).toThrow(/^unknown model 'resnet99' \(choose from resnet20, /);
  });
});

describe('--max-seconds', () => {
  it('takes a positive number of seconds; absent means no limit', () => {
    expect(maxSecondsOption(undefined)).toBeNull();
    expect(maxSecondsOption('90')).toBe(90);
    expect(maxSecondsOption('0.5')).toBe(0.5);
    for (const bad of ['0', '-3', 'x', '', 'Infinity']) expect(() => maxSecondsOption(bad)).toThrow(`--max-seconds must be a number of seconds > 0, got '${bad}'`);
  });
});
