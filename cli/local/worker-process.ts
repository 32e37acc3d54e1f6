/**
 * `vidx local`'s worker in a child process: the production entry (gpu-worker/main.ts), configured
 * by environment against the local emulators. Decoding, frame packing and inference then never hold
 * up the query API's event loop (they did in-process: p90 of seconds while a clip was scored).
 * The child drains on SIGTERM (stop()) and also when this process goes away (IPC disconnect).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerProcessMessage } from '../../gpu-worker/process-messages.ts';

const RUN_TS = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
const WORKER_MAIN = fileURLToPath(new URL('../../gpu-worker/main.ts', import.meta.url));

export interface LocalWorker {
  /** The worker's ClipWorker.status() (GET /_local/health). */
  status(): Promise<unknown>;
  /** Graceful stop: drain or release the batch in hand; resolves once the worker has stopped. */
  stop(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** The child's environment (ENV names of core/names.ts: queue, table, model, endpoints, settings). */
  env: NodeJS.ProcessEnv;
  /** Seconds stop() waits for the drain before killing the child (its own hard exit comes first). */
  killAfterSeconds: number;
  /** Where an unexpected exit is reported. */
  say: (msg: string) => void;
}

/** Forks the worker and resolves once its model is loaded and it polls the queue. */
export async function startWorkerProcess(o: WorkerProcessOptions): Promise<LocalWorker> {
  const child = fork(RUN_TS, [WORKER_MAIN], { env: o.env, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  let stopping = false;
  await new Promise<void>((ready, fail) => {
    const onMessage = (m: WorkerProcessMessage) => {
      if (m.type !== 'ready') return;
      child.off('message', onMessage);
      ready();
    };
    child.on('message', onMessage);
    child.once('error', fail);
    void exited.then((code) => fail(new Error(`the worker process exited (code ${code}) before it was ready; see its log above`)));
  });
  void exited.then((code) => {
    if (!stopping) o.say(`the worker process exited unexpectedly (code ${code}); restart vidx local to resume the queue`);
  });
  return {
    status: () => askStatus(child),
    stop() {
      if (!stopping) {
        stopping = true;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), o.killAfterSeconds * 1000);
        void exited.finally(() => clearTimeout(kill));
      }
      return exited.then(() => undefined);
    },
  };
}

function askStatus(child: ChildProcess): Promise<unknown> {
  if (!child.connected) return Promise.resolve({ running: false, exitCode: child.exitCode });
  return new Promise((done) => {
    const onMessage = (m: WorkerProcessMessage) => {
      if (m.type !== 'status') return;
      child.off('message', onMessage);
      done(m.status);
    };
    child.on('message', onMessage);
    child.once('exit', () => done({ running: false, exitCode: child.exitCode }));
    child.send({ type: 'status' });
  });
}
