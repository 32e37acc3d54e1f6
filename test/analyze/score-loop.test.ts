/**
 * The scoring loop's contract, observed with an instrumented reader and engine: the next batch
 * is requested before inference of the current one ends (decode overlaps inference), at most one
 * batch is read ahead, rows map to their windows, and failures close the reader.
 */
import { describe, expect, it } from 'vitest';
import type { Batch, Scorer, ScoringEngine } from '../../core/analyze/score.ts';
import { scoreBatches } from '../../core/analyze/score.ts';
import { isVidxError } from '../../core/errors.ts';

const LABELS = ['a', 'b', 'c', 'd'];
const CLASSES = LABELS.length;

/** Plain softmax + sort, written independently of core/model/scores.ts for this test. */
const scorer: Scorer = {
  softmax(logits, classes) {
    const out = new Float32Array(logits.length);
    for (let r = 0; r < logits.length / classes; r++) {
      const row = logits.subarray(r * classes, (r + 1) * classes);
      const m = Math.max(...row);
      const e = Array.from(row, (x) => Math.exp(x - m));
      const z = e.reduce((s, x) => s + x, 0);
      e.forEach((x, j) => (out[r * classes + j] = x / z));
    }
    return out;
  },
  topK(probs, row, classes, k, labels) {
    const r = Array.from(probs.subarray(row * classes, (row + 1) * classes), (p, index) => ({ label: labels[index]!, index, p }));
    return r.sort((x, y) => y.p - x.p || x.index - y.index).slice(0, k);
  },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reader of `n` windows in batches of `size`; each window's input holds its index. */
function reader(n: number, size: number, log: string[], opts: { failAt?: number; decodeMs?: number } = {}) {
  let closed = false;
  async function* gen(): AsyncGenerator<Batch> {
    try {
      for (let b = 0; b * size < n; b++) {
        log.push(`decode ${b} start`);
        await sleep(opts.decodeMs ?? 5);
        if (opts.failAt === b) throw new Error(`decode ${b} failed`);
        const windows = [];
        for (let i = b * size; i < Math.min(n, (b + 1) * size); i++) windows.push({ index: i, start: i * 2, end: i * 2 + 2 });
        log.push(`decode ${b} end`);
        yield { windows, inputs: { video: Float32Array.from(windows, (w) => w.index) } };
      }
    } finally {
      closed = true;
    }
  }
  return { it: gen(), closed: () => closed };
}

/** Engine whose logits for window i put the mass on label i % 4. */
function engine(log: string[], opts: { inferMs?: number; badRows?: boolean; failAt?: number } = {}): ScoringEngine {
  let call = 0;
  return {
    manifest: { labels: LABELS, output: { name: 'logits', classes: CLASSES } },
    async run(inputs, batch) {
      const b = call++;
      log.push(`run ${b} start`);
      await sleep(opts.inferMs ?? 30);
      if (opts.failAt === b) throw new Error(`run ${b} failed`);
      const ids = inputs.video!;
      expect(ids.length).toBe(batch);
      const out = new Float32Array((opts.badRows ? batch + 1 : batch) * CLASSES);
      ids.forEach((id, r) => (out[r * CLASSES + (id % CLASSES)] = 5));
      log.push(`run ${b} end`);
      return out;
    },
  };
}

describe('scoreBatches', () => {
  it('requests batch i+1 before inference of batch i ends, and reads at most one batch ahead', async () => {
    const log: string[] = [];
    const r = reader(7, 2, log);
    const out = await scoreBatches(r.it, engine(log), scorer, { total: 7, topK: 2 });
    expect(out.map((w) => w.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (let b = 0; b < 3; b++) {
      // decode of the next batch starts after run b starts and before it ends
      const runStart = log.indexOf(`run ${b} start`);
      const runEnd = log.indexOf(`run ${b} end`);
      const nextDecode = log.indexOf(`decode ${b + 1} start`);
      expect(nextDecode).toBeLessThan(runEnd);
      // one ahead, not two: decode b+2 has not started before run b ends
      const twoAhead = log.indexOf(`decode ${b + 2} start`);
      if (twoAhead >= 0) expect(twoAhead).toBeGreaterThan(runEnd);
      expect(runStart).toBeGreaterThan(log.indexOf(`decode ${b} end`));
    }
  });

  it('maps each logits row to its window: softmax, top-k best first, start/end kept', async () => {
    const log: string[] = [];
    const progress: Array<[number, number]> = [];
    const out = await scoreBatches(reader(5, 3, log).it, engine(log), scorer, { total: 5, topK: 2, onProgress: (d, t) => progress.push([d, t]) });
    const pTop = Math.exp(5) / (Math.exp(5) + 3);
    const pRest = 1 / (Math.exp(5) + 3);
    expect(out[2]).toEqual({ index: 2, start: 4, end: 6, top: [{ label: 'c', index: 2, p: Math.fround(pTop) }, { label: 'a', index: 0, p: Math.fround(pRest) }] });
    expect(out[4]!.top[0]!.label).toBe('a');
    expect(progress).toEqual([[3, 5], [5, 5]]);
  });

  it('a decode failure propagates, with the error of the decoder', async () => {
    const log: string[] = [];
    const r = reader(6, 2, log, { failAt: 1 });
    await expect(scoreBatches(r.it, engine(log), scorer, { total: 6, topK: 1 })).rejects.toThrow('decode 1 failed');
    expect(r.closed()).toBe(true);
  });

  it('an inference failure stops the prefetching reader and closes it; the inference error wins', async () => {
    const log: string[] = [];
    const r = reader(6, 2, log, { decodeMs: 50 });
    let stopped = false;
    await expect(
      scoreBatches(r.it, engine(log, { inferMs: 5, failAt: 0 }), scorer, { total: 6, topK: 1, stop: () => (stopped = true) }),
    ).rejects.toThrow('run 0 failed');
    expect(stopped).toBe(true);
    expect(r.closed()).toBe(true);
    expect(log).not.toContain('decode 2 start');
  });

  it('an abort between batches stops with ABORTED and closes the reader', async () => {
    const log: string[] = [];
    const r = reader(6, 2, log);
    const ac = new AbortController();
    await expect(
      scoreBatches(r.it, engine(log), scorer, { total: 6, topK: 1, signal: ac.signal, onProgress: () => ac.abort() }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(r.closed()).toBe(true);
    expect(log.filter((l) => l.endsWith('end') && l.startsWith('run'))).toEqual(['run 0 end']);
  });

  it('logits that do not match batch x classes are a typed error', async () => {
    const log: string[] = [];
    let err: unknown;
    try {
      await scoreBatches(reader(2, 2, log).it, engine(log, { badRows: true }), scorer, { total: 2, topK: 1 });
    } catch (e) {
      err = e;
    }
    expect(isVidxError(err, 'ANALYZE_BAD_LOGITS')).toBe(true);
  });
});
