/**
 * `vidx upload` as a user runs it (the CLI as a child process) against a running local stack:
 * multipart above one part (the emulator refuses bodies over 11 MiB), one outcome per file, going
 * on after a file fails, exit status 1 if any failed, and `--wait` that gives up after `--timeout`
 * with a clear message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../cli/local/stack.ts';
import type { ClipScorer } from '../../core/pipeline/clip-scorer.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { videoIdFor } from '../../core/records.ts';
import { FIXTURE_MANIFEST } from '../cdk/synth.ts';
import { DeterministicScorer, makeVideo } from '../pipeline/fixtures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let local: LocalStack;

function vidx(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/vidx.js', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-upload-cli-'));
  const inner = new DeterministicScorer(3);
  // The fixture manifest plans for slowfast_r50: the stand-in scorer answers for that model.
  const scorer: ClipScorer = {
    device: 'cpu', architecture: 'slowfast_r50', trained: false, topK: 3,
    windowsFor: (d) => inner.windowsFor(d),
    score: (source, video, windows, signal) => inner.score(source, video, windows, signal),
    close: async () => undefined,
  };
  local = await startLocalStack({ port: 0, dataDir: join(dir, 'data'), manifestPath: FIXTURE_MANIFEST, scorer, logLevel: 'SILENT', worker: { waitTimeSeconds: 1 } });
}, 60_000);

afterAll(async () => {
  await local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('vidx upload against the local stack', () => {
  it('sends a file over 11 MiB in parts, reports every file, goes on after a missing one, exits 1, and waits for the rest', async () => {
    // Uncompressed frames: 8 s of 320x240 at 15 fps is about 13.8 MB, instantly made.
    const big = join(dir, 'big.avi');
    execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15:duration=8', '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', big]);
    expect(statSync(big).size).toBeGreaterThan(11 * 1048576);
    const small = makeVideo(dir, 'small.mp4', 2);
    const missing = join(dir, 'not-there.mp4');

    const r = await vidx(['upload', big, missing, small, '--api', local.apiUrl, '--wait', '--timeout', '60']);
    const bigId = videoIdFor(local.resources.bucket, 'videos/big.avi');
    const smallId = videoIdFor(local.resources.bucket, 'videos/small.mp4');
    expect(r.stdout).toContain(`${bigId}  s3://${local.resources.bucket}/videos/big.avi  queued, 1 clip(s)`);
    expect(r.stdout).toContain(`FAILED  ${missing}  not uploaded: ${missing} is not a file`);
    expect(r.stdout).toContain(`${smallId}  s3://${local.resources.bucket}/videos/small.mp4  queued`);
    expect(r.stdout).toMatch(new RegExp(`${bigId}  indexed: `));
    expect(r.stdout).toMatch(new RegExp(`${smallId}  indexed: `));
    expect(r.stderr).toMatch(/big\.avi {2}13\.\d of 13\.\d MiB {2}100%/);
    // The follow line names the real ids, not a placeholder.
    expect(r.stdout).toContain(`follow: npx vidx videos --api ${local.apiUrl}\n`);
    expect(r.stdout).toContain(`curl ${local.apiUrl}/videos/${bigId}   (timeline: ${local.apiUrl}/videos/${bigId}/timeline)`);
    expect(r.stdout).toContain(`curl ${local.apiUrl}/videos/${smallId}`);
    expect(r.stdout).not.toContain('<id>');
    expect(r.code).toBe(1);
    expect((await local.store.getVideo(bigId))?.size).toBe(statSync(big).size);
  }, 120_000);

  it('--wait gives up after --timeout with what is left, and exits 1', async () => {
    await local.worker.stop(); // nothing will process the video
    const f = makeVideo(dir, 'never.mp4', 2);
    const t0 = Date.now();
    const r = await vidx(['upload', f, '--api', local.apiUrl, '--wait', '--timeout', '2']);
    const id = videoIdFor(local.resources.bucket, 'videos/never.mp4');
    expect(r.stdout).toMatch(new RegExp(`${id}  gave up waiting after 2 s: still queued 0 of \\d+ windows \\(0%\\), waiting for a worker`));
    // While it waits, it says where each video stands.
    expect(r.stderr).toMatch(new RegExp(`^  ${id}  queued 0 of \\d+ windows \\(0%\\), waiting for a worker$`, 'm'));
    expect(r.stderr).toMatch(/did not finish within 2 s\. Nothing is lost/);
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 60_000);

  it('--stack: a stack whose outputs cannot be read is a clear error, not a stack trace', async () => {
    const f = makeVideo(dir, 'to-aws.mp4', 1);
    // CloudFormation at a local port nothing listens on: the real client, a real connection refused.
    const env = {
      ...process.env, AWS_ENDPOINT_URL_CLOUDFORMATION: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1', AWS_MAX_ATTEMPTS: '1',
    };
    const r = await vidx(['upload', f, '--stack', 'NoSuchStack'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vidx: cannot read the outputs of the stack "NoSuchStack"/);
    expect(r.stderr).toMatch(/-> check the stack name/);
    expect(r.stderr).not.toMatch(/\n {4}at /);
  }, 60_000);
});
