/**
 * The image's command, run here in CPU mode: the exact ENTRYPOINT of gpu-worker/Dockerfile (with
 * /app = the repository), the environment the task definition sets, the emulators (fauxqs for SQS
 * and S3, dynalite for DynamoDB) standing in for AWS, and a synthetic model. It must start, answer
 * the task's health check, and exit 0 on SIGTERM well within the ECS stop timeout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../adapters/clients.ts';
import { DEFAULTS, ENV } from '../../core/names.ts';
import { WORKER_HEALTH_SCRIPT } from '../../cdk/constructs/gpu-worker-service.ts';
import { REPO_ROOT } from '../../cdk/paths.ts';
import { startEmulators, type Emulators } from '../../cli/local/emulators.ts';
import { ensureResources } from '../../cli/local/resources.ts';
import { synthesize as synthesizeModel } from '../../models/convert.ts';
import { finalStageEnv, imageCommand, readDockerfile } from './dockerfile.ts';

const REGION = 'us-east-1';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the worker image command in CPU mode', () => {
  let emulators: Emulators;
  let modelDir: string;
  let child: ChildProcess;
  let output = '';
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let healthPort: number;
  let imageEnv: Record<string, string>;

  beforeAll(async () => {
    emulators = await startEmulators();
    const clients = createClients({ region: REGION, endpoint: emulators.endpoint, dynamoEndpoint: emulators.dynamoEndpoint });
    const resources = await ensureResources(clients, { bucket: 'vidx-worker-command-test' });
    modelDir = mkdtempSync(join(tmpdir(), 'vidx-worker-model-'));
    const model = await synthesizeModel('i3d_r50', modelDir);

    const dockerfile = readDockerfile();
    const [cmd, ...args] = imageCommand(dockerfile);
    imageEnv = finalStageEnv(dockerfile);
    healthPort = await freePort();
    // What ECS gives the container: the image's ENV, overridden by the task definition's; here the
    // model, device and endpoints are the local ones (no GPU, no AWS).
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: imageEnv.NODE_ENV,
      [ENV.queueUrl]: resources.queueUrl,
      [ENV.table]: resources.tableName,
      [ENV.bucket]: resources.bucket,
      [ENV.region]: REGION,
      [ENV.endpoint]: emulators.endpoint,
      [ENV.dynamoEndpoint]: emulators.dynamoEndpoint,
      [ENV.model]: model.manifestPath,
      [ENV.device]: 'cpu',
      [ENV.threads]: '1',
      [ENV.healthPort]: String(healthPort),
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    child = spawn(cmd!, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await emulators?.stop();
    if (modelDir) rmSync(modelDir, { recursive: true, force: true });
  });

  it('starts and answers GET /health with 200 ok', async () => {
    const body = await waitFor(
      `/health on ${healthPort} (worker output so far: ${output.slice(-2000)})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${output.slice(-2000)}`);
        const r = await fetch(`http://127.0.0.1:${healthPort}/health`);
        return r.status === 200 ? ((await r.json()) as { status: string }) : undefined;
      },
      120_000,
    );
    expect(body.status).toBe('ok');
  }, 130_000);

  it('passes the task definition\'s own health check command', () => {
    const r = spawnSync('sh', ['-c', WORKER_HEALTH_SCRIPT], { env: { ...process.env, [ENV.healthPort]: String(healthPort) }, timeout: 10_000 });
    expect(r.status).toBe(0);
  });

  it('exits 0 on SIGTERM within the ECS stop timeout', async () => {
    const started = Date.now();
    child.kill('SIGTERM');
    const result = await exit;
    const seconds = (Date.now() - started) / 1000;
    expect(result, output.slice(-2000)).toEqual({ code: 0, signal: null });
    expect(seconds).toBeLessThan(DEFAULTS.stopTimeoutSeconds);
    expect(output).toMatch(/draining/);
  }, DEFAULTS.stopTimeoutSeconds * 1000);
});
