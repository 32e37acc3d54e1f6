/**
 * The web page in a real browser (Debian's chromium driven by playwright-core) against `vidx
 * local`'s stack with the synthesized i3d_r50 on CPU: an indexed video is searched and played from
 * the moment, its timeline's bars seek, an upload through the page's presigned PUT reaches
 * `indexed`, and empty or hostile searches are answered in words. A screenshot of each page is
 * kept under test-artifacts/web/ (gitignored). Without Chromium the tests say so and skip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, CHROMIUM, haveChromium, openPage } from './chromium.ts';
import { synthesize } from '../../models/convert.ts';
import { loadModelScorer } from '../../gpu-worker/load-model.ts';
import { startLocalStack, type LocalStack } from '../../cli/local/stack.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import type { TimelineResponse, VideoView } from '../../core/query/responses.ts';
import { waitFor } from '../helpers/emulators.ts';
import { CRICKET_GIF } from '../helpers/media.ts';

if (!haveChromium) process.stderr.write(`web browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set VIDX_CHROMIUM)\n`);

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT'; // the query Lambda's request lines

let dir: string;
let stack: LocalStack;
let browser: BrowserContext;
let page: Page;
let indexedId: string;
let timeline: TimelineResponse;

async function api<T>(path: string): Promise<T> {
  const r = await fetch(`${stack.apiUrl}${path}`);
  return (await r.json()) as T;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * An H.264 mp4 of the real cricket footage played twice (6.4 s: three i3d windows, so moments
 * start after 0 s). The page's <video> cannot play a GIF.
 */
function cricketMp4(out: string): string {
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', '1', '-i', CRICKET_GIF, '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', '+faststart', out]);
  return out;
}

describe.skipIf(!haveChromium)('the web page in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'vidx-web-'));
    const manifestPath = (await synthesize('i3d_r50', join(dir, 'model'))).manifestPath;
    const scorer = await loadModelScorer(manifestPath, { device: 'cpu', threads: 2, batch: 4 });
    stack = await startLocalStack({ port: 0, dataDir: join(dir, 'data'), manifestPath, scorer, logLevel: 'SILENT', worker: { waitTimeSeconds: 1 } });
    // One video indexed the way `vidx upload` sends it; the page's own upload is tested below.
    const file = cricketMp4(join(dir, 'cricket shot.mp4'));
    const put = await putVideoFile(stack.clients.s3, stack.resources.bucket, 'videos/', file);
    await stack.segmenter(s3CreatedEvent([put]));
    indexedId = put.videoId;
    await waitFor('the video indexed', async () => (await api<VideoView>(`/videos/${indexedId}`)).status === 'indexed', 150_000, 250);
    timeline = await api<TimelineResponse>(`/videos/${indexedId}/timeline`);
    ({ browser, page } = await openPage(join(dir, 'profile'), stack.apiUrl));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the video as indexed and says that the model is untrained', async () => {
    await expect.poll(() => page.locator('tr[data-status="indexed"]').count()).toBe(1);
    await expect.poll(() => page.getByRole('note').textContent()).toMatch(/Untrained model.*labels mean nothing/);
    await shot('videos');
  });

  it('searches, offers suggestions as one types, and plays a result from its start with the segment marked', async () => {
    // A label whose best moment starts after 0 s (so starting there is not the player's default).
    const bestOf = (label: string) => timeline.segments.filter((s) => s.label === label).sort((a, b) => b.score - a.score)[0]!;
    const best = timeline.segments.map((s) => bestOf(s.label)).find((s) => s.start > 0);
    expect(best, 'a label whose best segment starts after 0 s').toBeDefined();
    const box = page.getByLabel('Search actions');
    await box.fill(best!.label.slice(0, 6));
    await expect.poll(() => page.locator('#action-suggestions option').count()).toBeGreaterThan(0);
    await box.fill(best!.label);
    await box.press('Enter');
    const cards = page.locator('.cards .card');
    await expect.poll(() => cards.count()).toBeGreaterThan(0);
    // Each card shows its thumbnail: a JPEG the worker cut from the video, served through a signed URL.
    await expect.poll(() => cards.first().locator('img').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBe(320);
    await shot('search');
    // The first card is the best-scoring segment of the label; open it from the keyboard, and the
    // focused card shows a visible focus ring.
    await cards.first().focus();
    expect(await cards.first().evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none');
    await page.keyboard.press('Enter');
    const video = page.getByTestId('player');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    // Where playback began (it may have moved on since): the first played range starts there.
    const began = await video.evaluate((v: HTMLVideoElement) => (v.played.length > 0 ? v.played.start(0) : v.currentTime));
    expect(began).toBeCloseTo(best!.start, 1);
    expect(await page.getByTestId('segment-mark').count()).toBe(1);
    await video.evaluate((v: HTMLVideoElement) => v.pause());
    await shot('player');
  });

  it('shows one lane per action; hovering a bar shows label and score, clicking it seeks there', async () => {
    const labels = new Set(timeline.segments.map((s) => s.label));
    await expect.poll(() => page.locator('.lane').count()).toBe(labels.size);
    const bar0 = [...timeline.segments].sort((a, b) => a.start - b.start)[0]!;
    const bar = page.locator(`.bar[data-start="${bar0.start}"]`).first();
    await bar.hover();
    await expect.poll(() => page.getByRole('tooltip').textContent()).toMatch(/score \d\.\d\d/);
    await shot('timeline');
    const video = page.getByTestId('player');
    await video.evaluate((v: HTMLVideoElement) => {
      v.pause();
      v.currentTime = v.duration - 0.1; // away from the bar, so the click must seek
    });
    await bar.click();
    // It plays on from the bar's start: within a second and a half of it, far from the end.
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeLessThan(bar0.start + 1.5);
    expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThanOrEqual(bar0.start);
    await video.evaluate((v: HTMLVideoElement) => v.pause());
  });

  it('takes a dropped GIF through a presigned PUT, follows it to indexed without reload, and plays it from a moment', async () => {
    // The real footage as a person would drop it (issue 9: upload cricket_shot.gif, watch it index).
    const bytes = readFileSync(CRICKET_GIF).toString('base64');
    const dataTransfer = await page.evaluateHandle((b64: string) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'cricket_shot.gif', { type: 'image/gif' }));
      return dt;
    }, bytes);
    await page.locator('.drop').dispatchEvent('drop', { dataTransfer });
    await expect.poll(() => page.locator('tr[data-status]').count(), { timeout: 20_000 }).toBe(2);
    await expect.poll(() => page.locator('tr[data-status="indexed"]').count(), { timeout: 120_000, interval: 500 }).toBe(2);
    await shot('uploaded');
    const list = await api<{ items: VideoView[] }>('/videos');
    expect(list.items[0]!.key).toBe('videos/cricket_shot.gif');
    const gif = await api<TimelineResponse>(`/videos/${list.items[0]!.videoId}/timeline`);
    // 3.2 s of GIF hold one i3d window (2.1 s), so its segments start at 0 s.
    const first = gif.segments[0]!;

    await page.getByRole('button', { name: 'cricket_shot.gif', exact: true }).click();
    const canvas = page.getByTestId('gif-player');
    await expect.poll(() => canvas.getAttribute('data-played-from'), { timeout: 20_000 }).toBe('0');
    // Let it play past 1.5 s, then the bar brings it back to the segment's start.
    const shown = async () => Number(await canvas.getAttribute('data-current-time'));
    await expect.poll(shown, { timeout: 10_000 }).toBeGreaterThan(1.5);
    await page.locator(`.bar[data-start="${first.start}"]`).first().click();
    await expect.poll(shown).toBeLessThan(first.start + 0.5);
    expect(await shown()).toBeGreaterThanOrEqual(first.start);
    await shot('gif-player');
  }, 150_000);

  it('answers an empty search and hostile text in words, running nothing', async () => {
    const box = page.getByLabel('Search actions');
    await box.fill('   ');
    await box.press('Enter');
    await expect.poll(() => page.locator('.results .status').textContent()).toMatch(/Type an action/);
    await shot('search-empty');
    let dialogs = 0;
    page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    const hostile = `<img src=x onerror=alert(1)>"'; DROP TABLE videos; --`;
    await box.fill(hostile);
    await box.press('Enter');
    await expect.poll(() => page.locator('.results .status').textContent()).toMatch(/No action|No moments|\d+ moment/);
    expect(await page.locator('.results img[src="x"]').count()).toBe(0);
    await box.fill(`<>'"`);
    await box.press('Enter');
    await expect.poll(() => page.locator('.results .status').textContent()).toMatch(/must contain a letter or a digit/);
    await shot('search-hostile');
    expect(dialogs).toBe(0);
  });
});
