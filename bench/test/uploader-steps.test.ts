// The step-by-step la-uploader bench runs each request of a batch for real against the stand-ins: a step that
// stops working (a claim refused, a blob not read, the sink not accepting) fails here instead of in a bench run.
// No figure is asserted beyond being a measured, positive CPU time: they depend on the machine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runUploaderStepsBench } from '../src/uploader-steps-bench.ts';

describe('la-uploader steps bench', { timeout: 120_000 }, () => {
  it('measures each of a batch’s requests and sums them', async () => {
    const rows = await runUploaderStepsBench({
      batches: 6,
      warm: 2,
      floor: { recordsPerSec: 70_000, recordsPerCpuSec: 70_000 },
      recordsPerBatch: 667,
      progress: () => {},
    });
    const measured = rows.slice(0, -1).map(([name, figure]) => [name, Number.parseFloat(figure)] as const);
    for (const [name, ms] of measured) assert.ok(Number.isFinite(ms) && ms > 0, `${name}: ${ms}`);
    // The single delete is measured beside the batched one la-uploader now makes, and left out of the sum.
    const steps = measured.filter(([name]) => !name.endsWith('(before)'));
    assert.deepEqual(
      steps.map(([name]) => name.split(':')[0]),
      ['Service Bus', 'status table', 'staged blob', 'Logs Ingestion', 'staged blob'],
    );
    assert.match(steps.at(-1)![0], /in Blob Batch requests of 256/);
    assert.deepEqual(
      measured.filter(([name]) => name.endsWith('(before)')).map(([name]) => name),
      ['staged blob: delete, one request each (before)'],
    );
    const [sumName, sumFigure, sumText] = rows.at(-1)!;
    assert.equal(sumName, 'sum of the steps');
    const sum = steps.reduce((n, [, ms]) => n + ms, 0);
    assert.ok(Math.abs(Number.parseFloat(sumFigure) - sum) < 0.05, `${sumFigure} vs ${sum}`);
    assert.match(sumText, /at 667 records a batch \(as end to end\)/);
  });
});
