/**
 * `vidx analyze <file> --detect` as a user runs it (node bin/vidx.js), on a generated video with
 * synthesized detection models.
 *
 * Synthetic weights find no person: the synthesized Faster R-CNN labels every detection COCO id 52
 * with scores near 0.015. So this test gives the detector's manifest personLabel 52 and runs with
 * --person-threshold 0: the pipeline (decode, detector, selection, cap, action model, tracks,
 * segments, JSON) is real; the labels and scores mean nothing. One keyframe (a 1 s video) keeps
 * the CPU time small.
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectionResultSchema, formatPersonTimeline, type DetectionResult } from '../../core/detection/analyze.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { probe } from '../../core/video/probe.ts';
import { synthesize } from '../../models/convert.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function vidx(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/vidx.js'), ...args], { cwd: ROOT, env: { ...process.env, VIDX_THREADS: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let work: string;
let people: string;
let actions: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidx-detect-'));
  const p = await synthesize('fasterrcnn_resnet50_fpn_v2', join(work, 'models'));
  const a = await synthesize('slowfast_r50_detection', join(work, 'models'));
  people = p.manifestPath;
  actions = a.manifestPath;
  const manifest = JSON.parse(readFileSync(people, 'utf8')) as { personLabel: number };
  manifest.personLabel = 52; // what the synthetic graph labels everything (see the module comment)
  writeFileSync(people, JSON.stringify(manifest));
}, 300_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('vidx analyze --detect', () => {
  let result: DetectionResult;

  it('prints the versioned JSON with every person box of every keyframe, at most --max-people per keyframe', async () => {
    const video = join(work, 'portrait.mp4');
    // Portrait (120 x 160), 1 s: one keyframe at 0.5 s; its action clip runs past both ends of the video.
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=120x160:rate=25:duration=1', '-pix_fmt', 'yuv420p', video]);
    const annotated = join(work, 'portrait-annotated.mp4');
    const r = await vidx(['analyze', video, '--detect', '--json', '--annotate', annotated, '--people-model', people, '--actions-model', actions, '--person-threshold', '0', '--max-people', '3', '--device', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('UNTRAINED');
    expect(r.stderr).toContain(`annotated video written to ${annotated}`);
    expect(await probe(annotated)).toMatchObject({ width: 120, height: 160, codec: 'h264' });
    result = DetectionResultSchema.parse(JSON.parse(r.stdout));
    expect(result.video).toMatchObject({ width: 120, height: 160, duration: 1 });
    expect(result.options).toMatchObject({ keyframeInterval: 1, scoreThreshold: 0, actionThreshold: 0, maxPeople: 3 });
    expect(result.keyframes.map((k) => [k.index, k.t])).toEqual([[0, 0.5]]);
    const found = result.keyframes[0]!.people;
    expect(found).toHaveLength(3);
    for (const p of found) {
      expect(p.box[2]).toBeGreaterThan(p.box[0]);
      expect(p.box[3]).toBeGreaterThan(p.box[1]);
      expect(p.actions).toHaveLength(3); // untrained: the top 3 labels are kept
      expect(p.actions.every((a) => a.p >= 0 && a.p <= 1 && Math.round(a.p * 1000) === a.p * 1000)).toBe(true);
    }
    expect(found.map((p) => p.score)).toEqual([...found.map((p) => p.score)].sort((a, b) => b - a));
    // Every kept label of every person becomes a one-keyframe segment at threshold 0, with its box.
    expect(result.segments).toHaveLength(9);
    expect(new Set(result.segments.map((s) => s.person))).toEqual(new Set([1, 2, 3]));
    for (const s of result.segments) {
      expect(s).toMatchObject({ kind: 'person', start: 0, end: 1, keyframes: 1 });
      expect(s.boxes).toEqual([{ t: 0.5, box: found[s.person - 1]?.box ?? s.boxes[0]!.box }]);
    }
  }, 600_000);

  it('reads as one block per person, a header then their segments', () => {
    const blocks = formatPersonTimeline(result).trim().split('\n\n');
    expect(blocks).toHaveLength(3);
    blocks.forEach((block, i) => {
      const [header, ...segments] = block.split('\n');
      expect(header).toBe(`person ${i + 1}  (3 segments, 0.0-1.0 s)`);
      expect(segments).toHaveLength(3);
      for (const line of segments) expect(line).toMatch(/^ {2}0\.0-1\.0 s {2}\S.* {2}\d\.\d\d$/);
    });
  });

  it('refuses --annotate without --detect, and over the input itself, before loading any model', async () => {
    const video = join(work, 'portrait.mp4');
    const without = await vidx(['analyze', video, '--annotate', join(work, 'x.mp4')]);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('ANALYZE_BAD_OPTIONS');
    const over = await vidx(['analyze', video, '--detect', '--annotate', video, '--people-model', people, '--actions-model', actions]);
    expect(over.code).not.toBe(0);
    expect(over.stderr).toContain('ANNOTATE_BAD_OUTPUT');
    expect(over.stderr).not.toContain('UNTRAINED'); // refused before the models were loaded
  });

  it('says so when nobody is found (not an error)', () => {
    const empty: DetectionResult = { ...result, keyframes: result.keyframes.map((k) => ({ ...k, people: [] })), segments: [] };
    expect(formatPersonTimeline(empty)).toBe('no person found on 1 keyframe\n');
  });
});
