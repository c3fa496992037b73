#!/usr/bin/env python3
"""LRPET training in PyTorch on CIFAR-10, the accuracy anchor of the GPU run: the project's PyTorch trainer
(lrpet-torch, `python3 -m lrpet_torch train`) on a run.json made from these flags, so its test accuracy
stands beside the engine's for the same recipe — the same seeded data order, crop/flip draws,
initialisation, SGD, schedule, projections (float64) and compact model as `lrpet train` (the trainer's
parity tests hold it to the engine step for step). fp32 with TF32 off on CUDA (as WebGPU computes in
fp32); the CPU when there is no CUDA (tiny sizes only).

This script only translates: flags -> run.json, and the trainer's events.jsonl -> the JSON the GPU report
reads (accuracy per epoch, the final compact model's test accuracy).

Usage: python3 scripts/gpu/pytorch_lrpet_train.py --data DIR --model resnet20 --prune 0.5 --epochs 4
         [--batch 128] [--train-limit 20000] [--test-limit 10000] [--lr 0.1] [--schedule step]
         [--rank-multiple K] [--interval N] [--seed 1] [--max-seconds S] [--device auto|cuda|cpu] [--out accuracy-torch.json]
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'lrpet-torch'))

import torch  # noqa: E402
from lrpet_torch.__main__ import main as lrpet_torch  # noqa: E402
from lrpet_torch.config import FORMAT, paper_schedule  # noqa: E402


def schedule(kind, epochs):
    return paper_schedule(epochs) if kind == 'step' else {'kind': 'cosine', 'minLr': 0} if kind == 'cosine' else {'kind': 'constant'}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='folder with data_batch_*.bin and test_batch.bin')
    ap.add_argument('--model', default='resnet20')
    ap.add_argument('--prune', type=float, default=0.5)
    ap.add_argument('--rank-multiple', type=int, default=1, help='ranks rounded up to a multiple of this, never above n (the engine\'s --rank-multiple)')
    ap.add_argument('--epochs', type=int, required=True)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--train-limit', type=int, default=None)
    ap.add_argument('--test-limit', type=int, default=None)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--momentum', type=float, default=0.9)
    ap.add_argument('--weight-decay', type=float, default=1e-4)
    ap.add_argument('--wd-scope', default='all', choices=['all', 'kernels'])
    ap.add_argument('--schedule', default='step', choices=['step', 'cosine', 'constant'])
    ap.add_argument('--interval', type=int, default=None, help='iterations between projections (default: one epoch)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--max-seconds', type=float, default=None, help='stop training after this long (the final projection and test still run)')
    ap.add_argument('--device', default='auto', choices=['auto', 'cuda', 'cpu'])
    ap.add_argument('--out', default='accuracy-torch.json')
    ap.add_argument('--work', default=None, help="folder for the trainer's run (events.jsonl, safetensors); default: a temporary one")
    a = ap.parse_args()

    if a.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('pytorch_lrpet_train: --device cuda, but CUDA is not available')
    if not (a.device in ('auto', 'cuda') and torch.cuda.is_available()):
        print('pytorch_lrpet_train: no CUDA, running on the CPU (tiny sizes only)', flush=True)
    config = {
        'format': FORMAT, 'model': a.model, 'epochs': a.epochs, 'batchSize': a.batch, 'lr': a.lr, 'momentum': a.momentum,
        'weightDecay': a.weight_decay, 'weightDecayScope': a.wd_scope, 'schedule': schedule(a.schedule, a.epochs), 'seed': a.seed,
        'trainLimit': a.train_limit, 'testLimit': a.test_limit, 'gradNormEvery': 0, 'lrpet': {'prune': a.prune, 'interval': a.interval},
    }
    work = a.work or tempfile.mkdtemp(prefix='lrpet-torch-')
    run_file = os.path.join(work, 'run.json')
    os.makedirs(work, exist_ok=True)
    with open(run_file, 'w') as f:
        json.dump(config, f, indent=2)
    t0 = time.perf_counter()
    args = ['train', '--config', run_file, '--data', a.data, '--out', os.path.join(work, 'run'), '--device', a.device]
    code = lrpet_torch(args + (['--max-seconds', str(a.max_seconds)] if a.max_seconds else []))
    events = [json.loads(line) for line in open(os.path.join(work, 'run', 'events.jsonl'))]
    write_report(a, events, time.perf_counter() - t0, code)
    return code


def write_report(a, events, seconds, code):
    start = next(e for e in events if e['type'] == 'runStart')
    lrs = {e['epoch']: e['lr'] for e in events if e['type'] == 'step'}
    epochs = [{'epoch': e['epoch'], 'lr': lrs.get(e['epoch']), 'trainLoss': e['trainLoss'], 'trainAccuracy': e['trainAccuracy'], 'testAccuracy': e['testAccuracy'],
               'testLoss': e['testLoss'], 'afterProjection': e['afterProjection'], 'seconds': e['epochMs'] / 1000} for e in events if e['type'] == 'epoch']
    compact = next((e for e in events if e['type'] == 'compact'), None)
    steps = [e for e in events if e['type'] == 'step']
    projections = [e for e in events if e['type'] == 'projection']
    final = None
    if compact:
        final = {'testAccuracy': compact['testAccuracy'], 'testLoss': compact['testLoss'], 'projectedTestAccuracy': compact['denseTestAccuracy'],
                 'projections': len(projections), 'iterations': steps[-1]['iteration'] if steps else 0}
    runtime = start.get('runtime', {})
    meta = {'torch': torch.__version__, 'cuda': torch.version.cuda, 'device': runtime.get('deviceName'), 'tf32': False, 'trainer': 'lrpet-torch'}
    stopped = any(e['type'] == 'log' and e['message'].startswith('--max-seconds') for e in events)
    with open(a.out, 'w') as f:
        json.dump({'meta': meta, 'config': dict(vars(a), stepsPerEpoch=start['stepsPerEpoch'], trainImages=start['trainSize'], testImages=start['testSize']),
                   'epochs': epochs, 'final': final, 'stoppedEarly': stopped, 'exitCode': code, 'seconds': seconds}, f, indent=2)
    for e in epochs:
        print(f"  epoch {e['epoch'] + 1}: train loss {e['trainLoss']:.4f} acc {e['trainAccuracy']:.2%} | test acc {e['testAccuracy']:.2%} | {e['seconds']:.1f} s", flush=True)
    if final:
        print(f"final (the compact model): test acc {final['testAccuracy']:.2%} after {final['projections']} projections, {seconds:.1f} s; wrote {a.out}", flush=True)


if __name__ == '__main__':
    sys.exit(main())
