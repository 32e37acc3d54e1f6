/**
 * What a person sees on the web page, in a real browser (Debian's chromium driven by playwright-core)
 * against `vidx local`'s stack with the synthesized i3d_r50 on CPU, from an empty index on: the empty
 * state, a drop of three files (a refused one, a 200 MiB one sent in parts, a small real video), the
 * video list with a failed video in plain words (retried, then deleted), results and their filters, the player with its
 * link to the moment and its exports, and the server gone. In every state axe-core finds no serious
 * or critical violation, at desktop width and at 390 px, where nothing scrolls sideways. Screenshots
 * of each state go to test-artifacts/web/ (gitignored). Without Chromium the tests say so and skip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, CHROMIUM, haveChromium, openPage } from './chromium.ts';
import { seriousViolations } from './axe.ts';
import { synthesize } from '../../models/convert.ts';
import { loadModelScorer } from '../../gpu-worker/load-model.ts';
import { startLocalStack, type LocalStack } from '../../cli/local/stack.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { UPLOAD_PART_BYTES } from '../../core/query/media.ts';
import type { TimelineResponse, VideoView } from '../../core/query/responses.ts';
import { CRICKET_GIF } from '../helpers/media.ts';

if (!haveChromium) process.stderr.write(`web page tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set VIDX_CHROMIUM)\n`);

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const BIG_BYTES = 200 * 1024 * 1024;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let dir: string;
let stack: LocalStack;
let browser: BrowserContext;
let page: Page;
let bigSha256: string;
let files: { bad: string; big: string; small: string };
const consoleLines: string[] = [];

async function api<T>(path: string): Promise<T> {
  return (await (await fetch(`${stack.apiUrl}${path}`)).json()) as T;
}

function sha256(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    stream.on('data', (c: Buffer) => h.update(c));
    stream.on('end', () => resolve(h.digest('hex')));
    stream.on('error', reject);
  });
}

/**
 * The page as it is now, at desktop width and at phone width: a screenshot of each, axe-core's
 * serious and critical findings (none expected) and, on the phone, no sideways scroll.
 */
async function checkState(name: string): Promise<void> {
  for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(150); // layout after the resize
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${size}.png`), fullPage: true });
    expect(await seriousViolations(page), `${name} at ${size} width`).toEqual([]);
    if (size === 'phone') expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name}: document width at 390 px`).toBeLessThanOrEqual(PHONE.width);
  }
  await page.setViewportSize(DESKTOP);
}

describe.skipIf(!haveChromium)('the web page from an empty index on, in Chromium', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'vidx-web-page-'));
    const manifestPath = (await synthesize('i3d_r50', join(dir, 'model'))).manifestPath;
    const scorer = await loadModelScorer(manifestPath, { device: 'cpu', threads: 2, batch: 4 });
    stack = await startLocalStack({ port: 0, dataDir: join(dir, 'data'), manifestPath, scorer, logLevel: 'SILENT', worker: { waitTimeSeconds: 1 } });
    // The drop: a file the API refuses by name, 200 MiB of noise named like a video, the real footage.
    const drop = join(dir, 'drop');
    mkdirSync(drop);
    files = { bad: join(drop, 'notes.txt'), big: join(drop, 'big noise.mp4'), small: join(drop, 'cricket.mp4') };
    writeFileSync(files.bad, 'not a video');
    const fd = openSync(files.big, 'w');
    const h = createHash('sha256');
    for (let written = 0; written < BIG_BYTES; written += 8 * 1024 * 1024) {
      const chunk = randomBytes(8 * 1024 * 1024);
      h.update(chunk);
      writeSync(fd, chunk);
    }
    closeSync(fd);
    bigSha256 = h.digest('hex');
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-stream_loop', '1', '-i', CRICKET_GIF, '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', '+faststart', files.small]);
    ({ browser, page } = await openPage(join(dir, 'profile'), stack.apiUrl));
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('empty: says what vidx does and how to begin, and which model runs (synthetic)', async () => {
    await expect.poll(() => page.getByRole('heading', { name: 'Find the moments in your videos' }).count()).toBe(1);
    expect(await page.locator('.intro').textContent()).toMatch(/action-recognition model.*Drop a video/s);
    expect(await page.getByTestId('model-status').textContent()).toBe('Model: i3d_r50 · synthetic weights');
    expect(await page.getByRole('note').textContent()).toMatch(/Untrained model.*labels mean nothing/);
    await checkState('empty');
  });

  it('takes a drop file by file: a refused file says why on its line, the next ones go on; 200 MiB goes up in parts intact', async () => {
    await page.locator('input[type=file]').setInputFiles([files.bad, files.big, files.small]);
    const line = (f: string) => page.locator(`.sending li[data-file="${f}"]`);
    await expect.poll(() => line('notes.txt').textContent(), { timeout: 20_000 }).toMatch(/failed: name must be a plain file name/);
    // Real progress of the big one while its parts are in flight (not 0, not done).
    await expect.poll(() => line('big noise.mp4').locator('progress').evaluate((p: HTMLProgressElement) => p.value).catch(() => -1), { timeout: 60_000, interval: 50 }).toBeGreaterThan(0);
    await expect.poll(() => line('big noise.mp4').textContent(), { timeout: 180_000 }).toMatch(/uploaded/);
    await expect.poll(() => line('cricket.mp4').textContent(), { timeout: 60_000 }).toMatch(/uploaded/);
    // In storage byte for byte, as one object of ceil(200 MiB / part) parts.
    const got = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.resources.bucket, Key: 'videos/big noise.mp4' }));
    expect(got.ETag).toMatch(new RegExp(`-${Math.ceil(BIG_BYTES / UPLOAD_PART_BYTES)}"$`));
    expect(await sha256(got.Body as NodeJS.ReadableStream)).toBe(bigSha256);
  }, 300_000);

  it('lists the videos: the noise failed, said in plain words, the footage indexed', async () => {
    const row = (name: string) => page.locator('tr[data-status]', { hasText: name });
    await expect.poll(() => row('big noise.mp4').getAttribute('data-status'), { timeout: 60_000 }).toBe('failed');
    const why = (await row('big noise.mp4').getByTestId('failure').textContent()) ?? '';
    expect(why).toMatch(/not a video vidx can read|damaged/);
    expect(why).not.toMatch(/s3:\/\/|ffmpeg|ffprobe|Invalid data/i);
    await expect.poll(() => row('cricket.mp4').getAttribute('data-status'), { timeout: 180_000, interval: 500 }).toBe('indexed');
    // The indexed video shows its picture: its best segment's thumbnail, through a signed URL.
    await expect.poll(() => row('cricket.mp4').locator('img.thumb').evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBe(320);
    await checkState('videos');
    // Retry is a re-index: the same bytes with the same model fail the same way, and the page says so.
    await row('big noise.mp4').getByRole('button', { name: 'Retry big noise.mp4' }).click();
    await expect.poll(() => row('big noise.mp4').getByRole('status').textContent()).toMatch(/nothing to retry|retrying|failed again/);
    // Delete (confirmed) takes the video off the list and its object out of storage.
    page.once('dialog', (d) => void d.accept());
    await row('big noise.mp4').getByRole('button', { name: 'Delete big noise.mp4' }).click();
    await expect.poll(() => row('big noise.mp4').count(), { timeout: 20_000 }).toBe(0);
    await expect(stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.resources.bucket, Key: 'videos/big noise.mp4' }))).rejects.toThrow();
  }, 240_000);

  it('filters results by score and kind (and says how many the filters hide), and by video', async () => {
    const list = await api<{ items: VideoView[] }>('/videos');
    const cricket = list.items.find((v) => v.key === 'videos/cricket.mp4')!;
    const timeline = await api<TimelineResponse>(`/videos/${cricket.videoId}/timeline`);
    const best = [...timeline.segments].sort((a, b) => b.score - a.score)[0]!;
    const box = page.getByLabel('Search actions');
    await box.fill(best.label);
    await box.press('Enter');
    const cards = page.locator('.cards .card');
    await expect.poll(() => cards.count()).toBeGreaterThan(0);
    await checkState('results');
    const scores = async () => cards.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.score)));
    const setScore = async (v: number) => {
      const asked = page.waitForRequest((r) => r.url().includes('/search?') && (new URL(r.url()).searchParams.get('minScore') ?? '0') === String(v));
      await page.locator('#f-score').evaluate((el: HTMLInputElement, x: number) => {
        el.value = String(x);
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }, v);
      await asked;
    };
    // Score: the API is asked again with minScore, and every card shown meets it (the synthetic
    // model's scores are low, so a minimum above the best score empties the list, and says why).
    const min = 0.05;
    await setScore(min);
    await expect.poll(async () => (await scores()).every((s) => s >= min)).toBe(true);
    if ((await scores()).length === 0) await expect.poll(() => page.getByTestId('results-status').textContent()).toMatch(/with these filters/);
    await setScore(0);
    await expect.poll(() => cards.count()).toBeGreaterThan(0);
    // Kind: this model classifies clips only, so "per person" hides every result, and says so.
    await page.locator('#f-kind').selectOption('person');
    await expect.poll(() => cards.count()).toBe(0);
    expect(await page.getByTestId('results-status').textContent()).toMatch(/hidden by the filters/);
    await page.locator('#f-kind').selectOption('any');
    // Video: asked of the API (videoId=), and every card shown is of that video.
    const asked = page.waitForRequest((r) => r.url().includes('/search?') && new URL(r.url()).searchParams.get('videoId') === cricket.videoId);
    await page.locator('#f-video').selectOption(cricket.videoId);
    await asked;
    const videosShown = () => cards.evaluateAll((els) => [...new Set(els.map((e) => (e as HTMLElement).dataset.video))]);
    await expect.poll(videosShown).toEqual([cricket.videoId]);
    await checkState('results-filtered');
  });

  it('plays a result, copies a link to the moment that opens there, and exports the timeline as VTT, CSV, EDL and JSON', async () => {
    await page.locator('.cards .card').first().click();
    const video = page.getByTestId('player');
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    await video.evaluate((v: HTMLVideoElement) => {
      v.pause();
      v.currentTime = 2.5;
    });
    await expect.poll(() => page.getByRole('button', { name: /^Copy link to/ }).textContent()).toBe('Copy link to 2.5 s');
    await page.getByRole('button', { name: /^Copy link to/ }).click();
    const said = (await page.locator('.copied').textContent()) ?? '';
    const link = /(http:\/\/\S+)/.exec(said)?.[1];
    expect(link).toMatch(/\?video=[0-9a-f]{20}&t=2\.5$/);
    for (const format of ['vtt', 'csv', 'edl', 'json'] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`.exports button[data-format=${format}]`).click()]);
      expect(download.suggestedFilename()).toBe(`cricket.${format}`);
      const text = readFileSync((await download.path())!, 'utf8');
      const first = { vtt: /^WEBVTT/, csv: /^video_id,key,label,start,end,score,mean,windows/, edl: /^TITLE: /, json: /^\{"video":/ }[format];
      expect(text, format).toMatch(first);
    }
    await checkState('player');
    // The link, opened afresh, plays that video from 2.5 s.
    await page.goto(link!);
    const again = page.getByTestId('player');
    await expect.poll(() => again.evaluate((v: HTMLVideoElement) => v.readyState), { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    const began = await again.evaluate((v: HTMLVideoElement) => (v.played.length > 0 ? v.played.start(0) : v.currentTime));
    expect(began).toBeCloseTo(2.5, 1);
    await again.evaluate((v: HTMLVideoElement) => v.pause());
    await checkState('deep-link');
    // The page's own files: a favicon, and no policy violation logged along the way.
    const icon = await fetch(`${stack.apiUrl}/favicon.svg`);
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/svg+xml']);
    expect(consoleLines.filter((l) => /Content Security Policy|Content-Security-Policy|EvalError|favicon/i.test(l))).toEqual([]);
  }, 120_000);

  it('says once, in words, that the server cannot be reached', async () => {
    await stack.stop();
    const box = page.getByLabel('Search actions');
    await box.fill('cricket');
    await box.press('Enter');
    await expect.poll(() => page.getByTestId('offline').textContent(), { timeout: 30_000 }).toMatch(/server cannot be reached/);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toMatch(/Failed to fetch/);
    expect(text.match(/cannot be reached/g)?.length).toBe(1);
    await checkState('server-down');
  });
});
