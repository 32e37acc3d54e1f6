/**
 * Who is where, on the web page in a real browser (Debian's chromium driven by playwright-core):
 * `vidx local`'s stack runs detection (synthesized Faster R-CNN and SlowFast AVA on CPU; the
 * synthetic detector labels everything COCO 52, so its manifest's personLabel is 52 and the person
 * threshold 0, at most 2 people per keyframe and a keyframe every 2 s to keep it cheap) on the real
 * cricket footage; the player draws each person's box over the picture at the keyframe that
 * stands for the current time, where the API says it is. A search finds per-person results named by
 * their person; opening one picks that person's box out and groups the timeline's lanes per person
 * under a header, apart from the whole-frame lanes. axe-core finds no serious or critical violation.
 * Screenshots under test-artifacts/web/.
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
import { seriousViolations } from './axe.ts';

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

  it('names the person of each per-person result, picks out their box and groups the lanes per person', async () => {
    const person = timeline.segments.filter((s) => s.kind === 'person').sort((a, b) => b.score - a.score)[0]!;
    const box = page.getByLabel('Search actions');
    await box.fill(person.label);
    await box.press('Enter');
    const cards = page.locator('.cards .card[data-kind="person"]');
    await expect.poll(() => cards.count()).toBeGreaterThan(0);
    // Each per-person card says whose it is.
    for (const c of await cards.all()) expect(await c.textContent()).toMatch(new RegExp(`person ${await c.getAttribute('data-person')} · `));
    await page.screenshot({ path: join(ARTIFACTS, 'person-results.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    const who = Number(await cards.first().getAttribute('data-person'));
    await cards.first().click();
    await expect.poll(() => new URL(page.url()).searchParams.get('person')).toBe(String(who));
    // Their box is the picked one once the video shows the keyframe.
    const video = page.getByTestId('player');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await video.evaluate((v: HTMLVideoElement) => v.pause());
    await expect.poll(() => page.locator('.person-box.picked').getAttribute('data-person')).toBe(String(who));
    // Lanes: the whole-frame ones first, then one group per person with its header.
    const people = [...new Set(timeline.segments.filter((s) => s.kind === 'person').map((s) => s.person!))].sort((a, b) => a - b);
    await expect.poll(() => page.locator('.person-group .group-head').allTextContents()).toEqual(people.map((p) => expect.stringMatching(new RegExp(`^person ${p} · \\d+ actions?$`))));
    expect(await page.locator('.person-group.picked').getAttribute('data-person')).toBe(String(who));
    expect(await page.locator('.lane[data-group="clip"]').count()).toBe(new Set(timeline.segments.filter((s) => s.kind !== 'person').map((s) => s.label)).size);
    expect(await page.locator('.people .lane[data-group="clip"]').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'person-player.png'), fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(150);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'person-player-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
