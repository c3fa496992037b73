#!/usr/bin/env python3
"""Side-by-side table of the device run: tfjs WebGPU (stock and fast kernels, bench/gpu.ts JSON)
next to PyTorch (scripts/gpu/pytorch_bench.py JSON), training images/s on the same card.

Usage: python3 scripts/gpu/compare.py bench-gpu.json pytorch-bench.json [more PyTorch JSONs...]
"""
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f'compare: cannot read {path}: {e}', file=sys.stderr)
        return None


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    tfjs = load(sys.argv[1]) or {'steps': [], 'kernels': []}
    torch_runs = [(p, load(p)) for p in sys.argv[2:]]
    torch_runs = [(p, r) for p, r in torch_runs if r]

    modes = []
    for s in tfjs.get('steps', []):
        if s['mode'] not in modes:
            modes.append(s['mode'])
    keys = []
    for s in tfjs.get('steps', []) + [s for _, r in torch_runs for s in r['steps']]:
        k = (s['model'], s['batch'])
        if k not in keys:
            keys.append(k)

    def tf_ips(model, batch, mode):
        for s in tfjs.get('steps', []):
            if s['model'] == model and s['batch'] == batch and s['mode'] == mode:
                return s['imgPerSec']
        return None

    def pt_label(r):
        m = r['meta']
        return 'torch' + ('+tf32' if m.get('tf32') else '') + ('+cl' if m.get('channels_last') else '')

    def pt_ips(r, model, batch):
        for s in r['steps']:
            if s['model'] == model and s['batch'] == batch:
                return s['imgPerSec']
        return None

    fmt = lambda v: '-' if v is None or v != v else (f'{v:,.0f}' if v >= 100 else f'{v:.2f}')
    legend = {}

    def mode_label(m):
        if len(m) <= 12:
            return f'tfjs {m}'
        legend.setdefault(m, f'tfjs mode{len(legend) + 1}')
        return legend[m]

    head = ['model', 'batch'] + [mode_label(m) for m in modes] + [pt_label(r) for _, r in torch_runs]
    if 'stock' in modes and 'fast' in modes:
        head.append('fast/stock')
    if 'fast' in modes and torch_runs:
        head.append(f'{pt_label(torch_runs[0][1])}/fast')
    rows = []
    for model, batch in keys:
        row = [model, str(batch)] + [fmt(tf_ips(model, batch, m)) for m in modes] + [fmt(pt_ips(r, model, batch)) for _, r in torch_runs]
        st, fa = tf_ips(model, batch, 'stock'), tf_ips(model, batch, 'fast')
        if 'stock' in modes and 'fast' in modes:
            row.append(f'{fa / st:.1f}x' if st and fa else '-')
        if 'fast' in modes and torch_runs:
            pt = pt_ips(torch_runs[0][1], model, batch)
            row.append(f'{pt / fa:.1f}x' if pt and fa else '-')
        rows.append(row)
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    line = lambda cells: '  '.join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells))
    ks = tfjs.get('kernels', [])
    if ks:
        def g(t):
            return '-' if not t else (f"{t['gflops']:,.0f}" if t['gflops'] >= 100 else f"{t['gflops']:.2f}")
        print(f"\n== Conv kernels, GFLOP/s at batch {ks[0]['batch']} (bpIn = backprop-input, bpFilt = backprop-filter)")
        kh = ['shape', 'fwd', 'bpIn stock', 'bpIn fast', 'bpFilt stock', 'bpFilt fast']
        krows = [[k['shape'], g(k['forward']), g(k['backpropInput'].get('stock')), g(k['backpropInput'].get('fast')),
                  g(k['backpropFilter'].get('stock')), g(k['backpropFilter'].get('fast'))] for k in ks]
        kw = [max(len(h), *(len(r[i]) for r in krows)) for i, h in enumerate(kh)]
        kl = lambda cells: '  '.join(c.ljust(kw[i]) if i == 0 else c.rjust(kw[i]) for i, c in enumerate(cells))
        print(kl(kh))
        print('  '.join('-' * n for n in kw))
        for r in krows:
            print(kl(r))

    mem = tfjs.get('memory')
    if mem:
        s0, s1 = mem['samples'][0], mem['samples'][-1]
        print(f"memory over {mem['steps']} steps ({mem['model']} b{mem['batch']} {mem['mode']}): {'FLAT' if mem['flat'] else 'NOT FLAT'}; "
              f"tensors {s0['numTensors']} -> {s1['numTensors']}, GPU bytes in use {s0.get('numBytesInGPU')} -> {s1.get('numBytesInGPU')}")

    meta = tfjs.get('meta', {})
    adapter = meta.get('adapter') or {}
    print(f"\n== Training images/s, same card: tfjs {meta.get('tfjs', '?')} WebGPU via Dawn "
          f"({adapter.get('vendor', '?')} {adapter.get('description', '')}) vs PyTorch "
          + ', '.join(f"{r['meta'].get('torch')} ({r['meta'].get('device')})" for _, r in torch_runs))
    print(line(head))
    print('  '.join('-' * n for n in w))
    for r in rows:
        print(line(r))
    for m, label in legend.items():
        print(f'{label} = {m}')


if __name__ == '__main__':
    main()
