/**
 * Decoding over HTTP reconnects: a presigned URL whose connection drops mid-body (a reset, an
 * idle timeout of a proxy) resumes with a Range request where it stopped, instead of failing the
 * clip. A real HTTP server on 127.0.0.1 that cuts its first decode response short, real ffmpeg.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeVideo, tempDir } from '../helpers/media.ts';
import { probe } from '../../core/video/probe.ts';
import { listFrameTimes } from '../../core/video/frame-times.ts';
import { decodeFrames } from '../../core/video/decode.ts';
import { httpInputArgs } from '../../core/video/ffmpeg.ts';

let server: Server;
let url: string;
let cleanup: () => void;
/** Set to cut the next response after this many bytes (then disarmed). */
let cutAfter: number | undefined;
const ranges: string[] = [];

beforeAll(async () => {
  const t = tempDir('vidx-reconnect-');
  cleanup = t.cleanup;
  const video = await makeVideo(t.dir, { seconds: 4, fps: 25, width: 320, height: 240, container: 'mkv', pattern: 'testsrc', gop: 25, name: 'clip' });
  const size = statSync(video.path).size;
  server = createServer((req, res) => {
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m && m[2] ? Number(m[2]) : size - 1;
    ranges.push(req.headers.range ?? 'none');
    res.writeHead(m ? 206 : 200, {
      'content-type': 'video/x-matroska',
      'accept-ranges': 'bytes',
      'content-length': String(end - start + 1),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    const cut = cutAfter;
    cutAfter = undefined;
    const stream = createReadStream(video.path, { start, end: cut === undefined ? end : Math.min(end, start + cut - 1) });
    if (cut === undefined) stream.pipe(res);
    else {
      stream.on('data', (b) => res.write(b));
      stream.on('end', () => req.socket.destroy()); // the connection drops before the body is complete
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clip.mkv`;
  cutAfter = undefined;
  expect(size).toBeGreaterThan(20_000);
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  cleanup();
});

describe('decoding over HTTP', () => {
  it('asks ffmpeg to reconnect http(s) inputs, and nothing for a file', () => {
    expect(httpInputArgs('https://bucket.s3.amazonaws.com/videos/a.mp4?X-Amz-Signature=x')).toEqual(['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '30']);
    expect(httpInputArgs('/tmp/a.mp4')).toEqual([]);
  });

  it('delivers every wanted frame although the connection drops mid-body', async () => {
    const info = await probe(url);
    const { pts } = await listFrameTimes(url, info, 0, info.duration);
    expect(pts.length).toBeGreaterThanOrEqual(90);
    ranges.length = 0;
    cutAfter = 12_000; // the decode's first response stops after 12 kB
    const wanted = pts.filter((_, i) => i % 10 === 0);
    const got: number[] = [];
    for await (const f of decodeFrames(url, info, wanted, { shortSide: 64, crop: 64 })) got.push(f.pts);
    expect(got).toEqual(wanted);
    // ffmpeg came back for the rest with a Range request past the start.
    expect(ranges.length).toBeGreaterThan(1);
    expect(ranges.slice(1).some((r) => /^bytes=[1-9]\d*-/.test(r))).toBe(true);
  });
});
