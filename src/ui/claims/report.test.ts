import '../../worker/zod-setup';
import { describe, expect, it } from 'vitest';
import { batchReport } from './claims';
import { reportCsv, reportMarkdown } from './report';
import { batchRecords } from './test-records';

const DATA = 'CIFAR-10 binary files in the local folder /data/cifar';

describe('the claims report', () => {
  it('Markdown: the claims with numbers and verdicts, the arms table, settings, seeds, backend and the data note', () => {
    const records = batchRecords('b1', { lrpet: [0.7, 0.72, 0.74], 'no-et': [0.66, 0.7, 0.74] }, { data: DATA });
    const md = reportMarkdown(batchReport(records, 'b1'), new Date(Date.UTC(2025, 0, 2)));
    expect(md).toMatch(/^# LRPET ablation batch: the paper's claims, measured\n/);
    expect(md).toContain('- Seeds: 3 seeds per arm (7, 8, 9)');
    expect(md).toContain('- Backend: webgpu');
    expect(md).toContain(`- Data: ${DATA}. Accuracies hold for these runs on this data only`);
    expect(md).toContain('decoded from JPEGs (lossy)');
    expect(md).toMatch(/- Noise rule: a difference is within the noise when it is at most 2 standard errors/);
    expect(md).toMatch(/- Settings shared by all runs: .*resnet8-tiny/);
    expect(md).toContain('1. **Energy transfer helps');
    expect(md).toContain('LRPET 72.00% ± 2.00 (3 seeds) vs No energy transfer 70.00% ± 4.00 (3 seeds); LRPET − No energy transfer: +2.00 points, within the noise (2·SE = 5.16 points)');
    expect(md).toContain('   - MACs of the compact model: LRPET 400 (−60.0%), No energy transfer 400 (−60.0%)');
    expect(md).toContain('   - Verdict: **within the noise** — Not shown by this batch: the difference is within the noise.');
    expect(md).toContain('   - Verdict: **not run** — Not run in this batch (it needs the “Post-hoc SVD” arm).');
    expect(md).toContain('| LRPET | energy transfer: on | 3 of 3 | 72.00% ± 2.00 (3 seeds), compact model | 71.90% ± 2.00 (3 seeds) | 400 (−60.0%) | 40 (−60.0%) | 7: 70.00%, 8: 72.00%, 9: 74.00% |');
  });

  it('CSV: one row per run, quoted where needed, formulas defused', () => {
    const records = batchRecords('b1', { lrpet: [0.45], dense: [0.5] });
    records[0] = { ...records[0], name: '=HYPERLINK("x"), "quoted"' };
    const csv = reportCsv(batchReport(records, 'b1'));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('batch,arm,arm_label,seed,run,counted,final_test_accuracy,final_accuracy_of,last_epoch_test_accuracy,macs,params,macs_dense,params_dense,backend,data');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe(`b1,lrpet,LRPET,7,"'=HYPERLINK(""x""), ""quoted""",yes,0.45,compact,${0.45 - 0.001},400,40,1000,100,webgpu,`);
    expect(lines[2]).toBe('b1,dense,Dense baseline,7,Dense baseline · resnet8-tiny,yes,0.5,last epoch,0.5,1000,100,1000,100,webgpu,');
  });
});
