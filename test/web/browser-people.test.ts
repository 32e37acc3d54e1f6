/**
 * Who is where, on the web page in a real browser (Debian's chromium driven by playwright-core):
 * `vidx local`'s stack runs detection (synthesized Faster R-CNN and SlowFast AVA on CPU; the
 * synthetic detector labels everything COCO 52, so its manifest's personLabel is 52 and the person
 * threshold 0, at most 2 people per keyframe and a keyframe every 2 s to keep it cheap) on the real
 * cricket footage; the player draws each person's box over the picture at the keyframe that
 * stands for the current time, where the API says it is. Screenshot under test-artifacts/web/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, haveChromium, openPage } from './chromium.ts';
import { synthesize } from '../../models/convert.ts';
import { loadModelScorer } from '../../gpu-worker/load-model.ts';
import { startLocalStack, type LocalStack } from '../../cli/local/stack.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import type { TimelineResponse, VideoView } from '../../core/query/responses.ts';
import { waitFor } from '../helpers/emulators.ts';
import { CRICKET_GIF } from '../helpers/media.ts';
import { boxesAt, containRect } from '../../web/person-boxes.tsx';

const INTERVAL = 2;
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

let dir: string;
let stack: LocalStack;
let browser: BrowserContext;
let page: Page;
let videoId: string;
let timeline: TimelineResponse;

async function api<T>(path: string): Promise<T> {
  return (await (await fetch(`${stack.apiUrl}${path}`)).json()) as T;
}

describe.skipIf(!haveChromium)('person boxes on the web page, in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'vidx-web-people-'));
    const models = join(dir, 'model');
    const manifestPath = (await synthesize('i3d_r50', models)).manifestPath;
    const peopleModel = (await synthesize('fasterrcnn_resnet50_fpn_v2', models)).manifestPath;
    const actionsModel = (await synthesize('slowfast_r50_detection', models)).manifestPath;
    const m = JSON.parse(readFileSync(peopleModel, 'utf8')) as { personLabel: number };
    m.personLabel = 52; // what the synthetic graph labels everything (see the module comment)
    writeFileSync(peopleModel, JSON.stringify(m));
    const scorer = await loadModelScorer(manifestPath, {
      device: 'cpu', threads: 2, batch: 4,
      analyses: { classify: true, detect: true }, peopleModel, actionsModel, keyframeInterval: INTERVAL, personThreshold: 0, maxPeople: 2,
    });
    stack = await startLocalStack({
      port: 0, dataDir: join(dir, 'data'), manifestPath, scorer, logLevel: 'SILENT', worker: { waitTimeSeconds: 1 },
      detection: { keyframeInterval: INTERVAL, people: defaultPersonTimelineOptions(false, INTERVAL) },
    });
    const file = join(dir, 'cricket.mp4');
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-i', CRICKET_GIF, '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', '+faststart', file]);
    const put = await putVideoFile(stack.clients.s3, stack.resources.bucket, 'videos/', file);
    await stack.segmenter(s3CreatedEvent([put]));
    videoId = put.videoId;
    await waitFor('the video indexed', async () => (await api<VideoView>(`/videos/${videoId}`)).status === 'indexed', 300_000, 500);
    timeline = await api<TimelineResponse>(`/videos/${videoId}/timeline`);
    ({ browser, page } = await openPage(join(dir, 'profile'), stack.apiUrl));
  }, 420_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws each person found at the keyframe of the current time where the API puts them, and moves them with the keyframes', async () => {
    await page.locator('.videos .link').first().click();
    const video = page.getByTestId('player');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    for (const t of [1, 3]) {
      await video.evaluate((v: HTMLVideoElement, at: number) => {
        v.pause();
        v.currentTime = at;
      }, t);
      const expected = boxesAt(timeline.segments, t, INTERVAL);
      expect(expected).toHaveLength(2); // --max-people 2
      const drawn = page.getByTestId('person-box');
      await expect.poll(() => drawn.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.person)))).toEqual(expected.map((p) => p.person));
      // Where: the box's fractions of the picture, which sits letterboxed inside the <video> element.
      const el = await video.evaluate((v: HTMLVideoElement) => {
        const r = v.getBoundingClientRect();
        return { x: r.x + v.clientLeft, y: r.y + v.clientTop, width: v.clientWidth, height: v.clientHeight, vw: v.videoWidth, vh: v.videoHeight };
      });
      const picture = containRect(el, { width: el.vw, height: el.vh });
      for (const [i, p] of expected.entries()) {
        const b = (await drawn.nth(i).boundingBox())!;
        const [x1, y1, x2, y2] = p.box;
        expect(Math.abs(b.x - (el.x + picture.left + x1 * picture.width))).toBeLessThan(2);
        expect(Math.abs(b.y - (el.y + picture.top + y1 * picture.height))).toBeLessThan(2);
        expect(Math.abs(b.width - (x2 - x1) * picture.width)).toBeLessThan(2);
        expect(Math.abs(b.height - (y2 - y1) * picture.height)).toBeLessThan(2);
        await expect.poll(() => drawn.nth(i).textContent()).toContain(`person ${p.person}`);
      }
      await page.screenshot({ path: join(ARTIFACTS, `person-boxes-${t}s.png`), fullPage: true });
    }
  });
});
