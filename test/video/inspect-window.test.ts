import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runVidx } from '../helpers/cli.ts';
import { probe } from '../../core/video/probe.ts';
import { readWindows } from '../../core/video/window-source.ts';
import { indexFromFrame, makeVideo, planarFrame, tempDir } from '../helpers/media.ts';
import { slowfastManifest } from './manifests.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const vidx = (args: string[]) => runVidx(args);

describe('vidx inspect-window', () => {
  it('writes each input as raw LE float32 NCTHW (N=1) and inputs.json with shapes and frame times', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 3, fps: 25, width: 80, height: 60, name: 'inspect' });
    const m = slowfastManifest({ T: 8, r: 2, alpha: 4, F: 30, S: 40, C: 32 });
    const manifestPath = join(tmp.dir, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(m));
    const out = join(tmp.dir, 'out');
    const { stdout } = await vidx(['inspect-window', v.path, '--model', manifestPath, '--at', '1.1', '--out', out]);
    expect(stdout).toMatch(/fast\.f32\s+fast \[1, 3, 8, 32, 32\]/);

    const json = JSON.parse(readFileSync(join(out, 'inputs.json'), 'utf8'));
    expect(json.inputs.fast.shape).toEqual([1, 3, 8, 32, 32]);
    expect(json.inputs.slow.shape).toEqual([1, 3, 2, 32, 32]);
    expect(json.inputs.slow.frames).toEqual([0, 7]);
    // instants 1.1 + k/15; frames every 0.04 s: on screen is floor((1.1 + k/15) * 25).
    const expectedIdx = Array.from({ length: 8 }, (_, k) => Math.floor((1.1 + k / 15) * 25 + 1e-6));
    expect(json.frameTimes).toEqual(expectedIdx.map((n) => expect.closeTo(n / 25, 6)));
    expect(json.inputs.slow.frameTimes).toEqual([json.frameTimes[0], json.frameTimes[7]]);
    expect(json.window.start).toBe(1.1);

    const bytes = readFileSync(join(out, 'fast.f32'));
    expect(bytes.length).toBe(3 * 8 * 32 * 32 * 4);
    const fast = new Float32Array(bytes.length / 4);
    for (let i = 0; i < fast.length; i++) fast[i] = bytes.readFloatLE(i * 4);
    const seen = Array.from({ length: 8 }, (_, k) => indexFromFrame(planarFrame(fast, 0, k, 8, 32), 32, m.mean, m.std));
    expect(seen).toEqual(expectedIdx);

    // The same numbers as the library gives for that window.
    const info = await probe(v.path);
    for await (const b of readWindows(v.path, m, { info, windows: [{ index: 0, start: 1.1, end: 1.1 + 16 / 30 }], batch: 1 })) {
      expect(fast).toEqual(b.inputs.fast);
      const slowBytes = readFileSync(join(out, 'slow.f32'));
      expect(new Float32Array(slowBytes.buffer, slowBytes.byteOffset, slowBytes.length / 4)).toEqual(b.inputs.slow);
    }
  });

  it('refuses a start outside the video with a typed error', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 1, fps: 25, width: 32, height: 32, name: 'inspect-short' });
    const manifestPath = join(tmp.dir, 'manifest2.json');
    writeFileSync(manifestPath, JSON.stringify(slowfastManifest()));
    const err = await vidx(['inspect-window', v.path, '--model', manifestPath, '--at', '5', '--out', join(tmp.dir, 'o2')]);
    expect(err).toMatchObject({ code: 1, stderr: expect.stringMatching(/outside the video.*\[INSPECT_BAD_TIME\]/s) });
    const bad = await vidx(['inspect-window', join(tmp.dir, 'none.mp4'), '--model', manifestPath, '--at', '0', '--out', join(tmp.dir, 'o3')]);
    expect(bad).toMatchObject({ stderr: expect.stringMatching(/\[VIDEO_NOT_FOUND\]/) });
  });
});
