/** Detection settings and storage rules: analyses, the keyframe interval, which action labels a record keeps, the search vocabulary. */
import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { keyframeIntervalFrom, parseAnalyses } from '../../core/detection/analyses.ts';
import { keptActions, MAX_STORED_LABELS, STORED_ACTION_FLOOR } from '../../core/detection/runner.ts';
import { planKeyframes } from '../../core/detection/keyframes.ts';
import { planClips } from '../../core/pipeline/plan.ts';
import { loadAvaLabels, loadKinetics400Labels, loadSearchVocabulary } from '../../models/labels.ts';

describe('analyses (VIDX_ANALYSES, --analyses)', () => {
  it('are classification alone when unset, else the listed ones in any order', () => {
    expect(parseAnalyses(undefined)).toEqual({ classify: true, detect: false });
    expect(parseAnalyses(' ')).toEqual({ classify: true, detect: false });
    expect(parseAnalyses('detect')).toEqual({ classify: false, detect: true });
    expect(parseAnalyses('detect, classify')).toEqual({ classify: true, detect: true });
  });

  it('refuse anything else with a typed error', () => {
    expect(parseAnalyses('classify,')).toEqual({ classify: true, detect: false }); // a trailing comma is harmless
    for (const bad of ['track', ',', 'classify;detect']) {
      let err: unknown;
      try {
        parseAnalyses(bad);
      } catch (e) {
        err = e;
      }
      expect(isVidxError(err) && err.code === 'ANALYSES_BAD').toBe(true);
    }
  });

  it('take the keyframe interval from the environment, 1 s by default', () => {
    expect(keyframeIntervalFrom(undefined)).toBe(1);
    expect(keyframeIntervalFrom('0.5')).toBe(0.5);
    expect(() => keyframeIntervalFrom('0')).toThrow(/positive/);
  });
});

describe('the action labels a person keeps', () => {
  const labels = Array.from({ length: 12 }, (_, i) => `a${i}`);

  it('trained: those at or above the floor, best first, at most MAX_STORED_LABELS, rounded to 3 decimals', () => {
    const probs = Float32Array.from(labels, (_, i) => (i === 3 ? STORED_ACTION_FLOOR - 0.01 : 0.9 - i * 0.05 + 0.00012));
    const kept = keptActions(probs, labels, true);
    expect(kept.length).toBe(MAX_STORED_LABELS);
    expect(kept.map((k) => k.label)).not.toContain('a3');
    expect(kept[0]).toEqual({ label: 'a0', index: 0, p: 0.9 });
    expect(kept.every((k, i) => i === 0 || kept[i - 1]!.p >= k.p)).toBe(true);
    expect(keptActions(new Float32Array(12).fill(0.05), labels, true)).toEqual([]);
  });

  it('untrained: the top 3, whatever their scores', () => {
    expect(keptActions(Float32Array.from(labels, (_, i) => i / 100), labels, false).map((k) => k.label)).toEqual(['a11', 'a10', 'a9']);
  });
});

describe('clip planning with keyframes', () => {
  it('gives a keyframe past the last window start a clip of its own', () => {
    // Windows start at 0 and 10 s of a 25 s video with 10 s clips; keyframes run to 24.5 s.
    const starts = [0, 10, ...planKeyframes(25, 1).map((k) => k.t)].sort((a, b) => a - b);
    expect(planClips([0, 10], 10).map((c) => c.start)).toEqual([0, 10]);
    expect(planClips(starts, 10).map((c) => [c.start, c.end])).toEqual([[0, 10], [10, 20], [20, 30]]);
  });
});

describe('the search vocabulary', () => {
  it('holds both Kinetics-400 and AVA labels, each once', () => {
    const v = loadSearchVocabulary();
    expect(v.slice(0, 400)).toEqual(loadKinetics400Labels());
    for (const a of loadAvaLabels()) expect(v).toContain(a);
    expect(new Set(v).size).toBe(v.length);
  });
});
