/**
 * What `vidx local` does before it serves: a busy port is refused at once with PORT_IN_USE
 * (before any model is pulled, built or loaded), and the model of a first start is the official
 * checkpoint pulled from the zoo where it answers, else synthetic weights at once, with why.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVidx } from '../helpers/cli.ts';
import { pullWanted, startModel } from '../../cli/first-run.ts';
import { parseSettings } from '../../core/settings/define.ts';
import { LOCAL_SETTINGS } from '../../core/settings/processes.ts';
import { synthesizeStateDict } from '../../models/synthetic.ts';
import { writeCheckpoint } from '../../models/torch/index.ts';
import { startZooServer, type ZooServer } from '../models/store-zoo-server.ts';

const FILE = 'I3D_8x8_R50.pyth';
let work: string;
let zoo: ZooServer;
let sha256: string;

/** A port that nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'vidx-local-start-'));
  const checkpoint = join(work, FILE);
  await writeCheckpoint(checkpoint, synthesizeStateDict('i3d_r50'), { format: 'zip' });
  sha256 = createHash('sha256').update(readFileSync(checkpoint)).digest('hex');
  zoo = await startZooServer({ [FILE]: checkpoint });
}, 120_000);

afterAll(async () => {
  await zoo?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('vidx local on a busy port', () => {
  it('is refused with PORT_IN_USE and what to do, before any model is built', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const cache = join(work, 'busy-cache');
    try {
      const r = await runVidx(['local', '--port', String(port), '--cache', cache, '--data', join(work, 'busy-data')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`vidx: port ${port} on 127.0.0.1 is already in use [PORT_IN_USE]\n  -> stop what listens there (another \`vidx local\`? see \`curl http://127.0.0.1:${port}/_local/health\`), or pass --port <another>\n`);
      expect(existsSync(cache)).toBe(false);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });
});

describe('the model of a first start', () => {
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);

  it('pulls the official checkpoint where the zoo answers, with progress and its sha256, then reuses the cache', async () => {
    const cache = join(work, 'online');
    const seen: number[] = [];
    const m = await startModel('i3d_r50', { cache, pull: true, log, env: { VIDX_MODEL_ZOO_URL: zoo.base('kinetics') }, onProgress: (p) => seen.push(p.received) });
    expect(m).toMatchObject({ source: 'pulled', trained: true });
    expect(m.manifestPath).toBe(join(cache, 'official', 'i3d_r50.json'));
    expect(seen.length).toBeGreaterThan(0);
    expect(logs.join('\n')).toContain(`checkpoint sha256 ${sha256}`);
    const again = await startModel('i3d_r50', { cache, pull: true, log, env: { VIDX_MODEL_ZOO_URL: 'http://127.0.0.1:9' } });
    expect(again).toMatchObject({ source: 'cached', manifestPath: m.manifestPath });
  }, 120_000);

  it('falls back at once to synthetic weights when the zoo cannot be reached, and says why', async () => {
    const cache = join(work, 'offline');
    const url = `http://127.0.0.1:${await deadPort()}/kinetics`;
    const m = await startModel('i3d_r50', { cache, pull: true, log, env: { VIDX_MODEL_ZOO_URL: url } });
    expect(m).toMatchObject({ source: 'synthetic', trained: false });
    expect(m.why).toMatch(/^offline\? cannot download http:\/\/127\.0\.0\.1:\d+\/kinetics\/I3D_8x8_R50\.pyth: .*ECONNREFUSED/);
    expect(existsSync(join(cache, 'official'))).toBe(false);
    expect(readdirSync(join(cache, 'synthetic'))).toContain('i3d_r50.json');
  }, 120_000);

  it('gives up on a zoo that does not answer within the connect timeout', async () => {
    const m = await startModel('i3d_r50', { cache: join(work, 'hang'), pull: true, log, env: { VIDX_MODEL_ZOO_URL: zoo.base('hang') }, connectTimeoutMs: 500 });
    expect(m.source).toBe('synthetic');
    expect(m.why).toContain('no response within 0.5 s');
  }, 120_000);

  it('never downloads with --no-pull or VIDX_NO_PULL=1', async () => {
    expect(pullWanted(false, false)).toBe(false);
    expect(pullWanted(true, true)).toBe(false);
    expect(pullWanted(true, false)).toBe(true);
    expect(parseSettings(LOCAL_SETTINGS, { VIDX_NO_PULL: '1' }).noPull).toBe(true);
    expect(parseSettings(LOCAL_SETTINGS, {}).noPull).toBe(false);
    const before = zoo.requests.length;
    const m = await startModel('i3d_r50', { cache: join(work, 'no-pull'), pull: false, log, env: { VIDX_MODEL_ZOO_URL: zoo.base('kinetics') } });
    expect(m).toMatchObject({ source: 'synthetic', why: 'pulling is off (--no-pull or VIDX_NO_PULL=1)' });
    expect(zoo.requests.length).toBe(before);
  }, 120_000);
});
