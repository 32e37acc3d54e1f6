/**
 * `vidx local`'s worker in a child process: the production entry (gpu-worker/main.ts), configured
 * by environment against the local emulators. Decoding, frame packing and inference then never hold
 * up the query API's event loop (they did in-process: p90 of seconds while a clip was scored).
 * Supervised: a child that dies (a crash, out of memory, killed) is started again after a backoff
 * (1 s, doubling to 30 s; back to 1 s once a child has run for a minute), said in the log and in
 * status() (GET /_local/health); its unfinished clips come back from the queue. The child drains on
 * SIGTERM (stop()) and stops within seconds when this process goes away (IPC disconnect).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerProcessMessage } from '../../gpu-worker/process-messages.ts';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../gpu-worker/main.ts', import.meta.url));

export interface LocalWorker {
  /** The worker's ClipWorker.status() and, for a child process, its supervision (GET /_local/health). */
  status(): Promise<unknown>;
  /** Graceful stop: drain or release the batch in hand; resolves once the worker has stopped. */
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** The child's environment (ENV names of core/names.ts: queue, table, model, endpoints, settings). */
  env: NodeJS.ProcessEnv;
  /** Seconds stop() waits for the drain before killing the child (its own hard exit comes first). */
  killAfterSeconds: number;
  /** Where exits and restarts are reported. */
  say: (msg: string) => void;
  /** Restart backoff (default: first 1 s, doubling up to 30 s, reset after a child ran 60 s). */
  backoff?: { firstMs?: number; maxMs?: number; resetAfterMs?: number };
}

export interface Supervision {
  state: 'running' | 'restarting' | 'stopped';
  /** The running child's process id. */
  pid: number | undefined;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | undefined;
  /** When restarting: in how many ms the next child starts. */
  nextStartInMs?: number;
}

/** Forks the worker, resolves once its model is loaded and it polls the queue, and keeps one running. */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<LocalWorker & { supervision(): Supervision }> {
  const firstMs = o.backoff?.firstMs ?? 1000;
  const maxMs = o.backoff?.maxMs ?? 30_000;
  const resetAfterMs = o.backoff?.resetAfterMs ?? 60_000;
  let child = await spawnReady(o.env);
  let childReady = true;
  let startedAt = Date.now();
  let stopping = false;
  let restarts = 0;
  let delay = firstMs;
  let lastExit: Supervision['lastExit'];
  let restartTimer: NodeJS.Timeout | undefined;
  let nextStartAt = 0;
  let stopped: Promise<void> | undefined;

  const supervise = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      if (stopping) return;
      lastExit = { code, signal, at: new Date().toISOString() };
      if (Date.now() - startedAt >= resetAfterMs) delay = firstMs;
      const wait = delay;
      delay = Math.min(maxMs, delay * 2);
      restarts++;
      o.say(`the worker process exited unexpectedly (code ${code}, signal ${signal ?? 'none'}); restarting it in ${(wait / 1000).toFixed(1)} s (restart ${restarts})`);
      nextStartAt = Date.now() + wait;
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopping) return;
        const next = forkWorker(o.env);
        child = next.child;
        childReady = false;
        startedAt = Date.now();
        supervise(next.child);
        next.ready.then(
          () => {
            if (next.child === child) childReady = true;
            if (!stopping) o.say(`the worker process is running again (pid ${next.child.pid}, restart ${restarts})`);
          },
          () => undefined, // it exited before it was ready: its exit schedules the next try
        );
      }, wait);
    });
  };
  supervise(child);

  const supervision = (): Supervision => ({
    state: stopping ? 'stopped' : restartTimer || !childReady ? 'restarting' : 'running',
    pid: restartTimer || stopping ? undefined : child.pid,
    restarts,
    lastExit,
    ...(restartTimer ? { nextStartInMs: Math.max(0, nextStartAt - Date.now()) } : {}),
  });

  return {
    supervision,
    async status() {
      const s = supervision();
      const worker = s.state === 'running' ? await askStatus(child) : { running: false };
      return { ...(worker as object), supervisor: s };
    },
    stop() {
      stopped ??= (async () => {
        stopping = true;
        if (restartTimer) clearTimeout(restartTimer);
        const c = child;
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise<void>((done) => c.once('exit', () => done()));
        c.kill('SIGTERM');
        const kill = setTimeout(() => c.kill('SIGKILL'), o.killAfterSeconds * 1000);
        await exited;
        clearTimeout(kill);
      })();
      return stopped;
    },
  };
}

/** Forks a worker child; `ready` settles once it polls the queue, or fails if it exits first. */
function forkWorker(env: NodeJS.ProcessEnv): { child: ChildProcess; ready: Promise<void> } {
  const child = fork(RUN_TS, [WORKER_MAIN], { env, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (m: WorkerProcessMessage) => {
      if (m.type !== 'ready') return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    // A failed spawn or send: reported through `ready` or the exit; never an unhandled 'error'.
    child.on('error', reject);
    child.once('exit', (code) => reject(new Error(`the worker process exited (code ${code}) before it was ready; see its log above`)));
  });
  ready.catch(() => undefined);
  return { child, ready };
}

async function spawnReady(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const { child, ready } = forkWorker(env);
  await ready;
  return child;
}

/** The child's status over IPC; a child that does not answer within 5 s is reported as such. */
function askStatus(child: ChildProcess): Promise<unknown> {
  if (!child.connected) return Promise.resolve({ running: false, exitCode: child.exitCode });
  return new Promise((resolve) => {
    const timer = setTimeout(() => done({ running: true, answering: false }), 5000);
    const done = (v: unknown) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(v);
    };
    const onExit = () => done({ running: false, exitCode: child.exitCode });
    const onMessage = (m: WorkerProcessMessage) => {
      if (m.type === 'status') done(m.status);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    try {
      child.send({ type: 'status' });
    } catch (_e) {
      done({ running: false, exitCode: child.exitCode }); // the channel closed in between
    }
  });
}
