/**
 * The worker's queue settings: from the environment (cdk/config.ts sets them on the task), else
 * the defaults of core/names.ts; the batch sized to the machine and the drain to the stop timeout.
 */
import { availableParallelism } from 'node:os';
import { VidxError } from '../core/errors.ts';
import { DEFAULTS, ENV } from '../core/names.ts';

/** SQS returns at most this many messages per receive. */
const SQS_MAX_BATCH = 10;

export interface WorkerSettings {
  /** Clip messages per receive; their clips are scored together. */
  batchSize: number;
  visibilityTimeoutSeconds: number;
  heartbeatSeconds: number;
  /** The ECS stop timeout: SIGTERM to SIGKILL. */
  stopTimeoutSeconds: number;
  /** Long-poll wait: a stop waits for the poll in progress, so it is bounded by the stop timeout. */
  waitTimeSeconds: number;
  /** How long a stop lets the batch in hand finish before aborting and releasing it. */
  drainSeconds: number;
  /** A stop that has not finished by then exits 1 (before ECS kills it). */
  hardExitSeconds: number;
}

/**
 * Clips per receive. On a GPU the clips of a batch share model runs (CoalescingEngine), so a full
 * SQS batch keeps it busy. On CPU every clip of a batch competes for the same cores: ten clips on
 * two cores all finish late (none within a drain), one or two per couple of cores finish in turn.
 */
export function batchSizeFor(device: string, cpus: number): number {
  if (device === 'cuda') return SQS_MAX_BATCH;
  return Math.max(1, Math.min(SQS_MAX_BATCH, Math.floor(cpus / 2)));
}

/**
 * The stop sequence inside the stop timeout T: the poll in progress ends within waitTime; the batch
 * in hand gets `drain` to finish, then is aborted and released; a hard exit at T minus a margin.
 * T = 120 s (the default) gives wait 20 s, drain 105 s, hard exit at 115 s.
 */
export function drainPlan(stopTimeoutSeconds: number): Pick<WorkerSettings, 'waitTimeSeconds' | 'drainSeconds' | 'hardExitSeconds'> {
  const t = stopTimeoutSeconds;
  return {
    waitTimeSeconds: Math.max(1, Math.min(20, Math.floor(t / 4))),
    drainSeconds: Math.max(1, Math.floor(t - Math.min(15, t / 2))),
    hardExitSeconds: Math.max(1, t - Math.min(5, t / 4)),
  };
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!(Number.isInteger(n) && n >= min && n <= max)) throw new VidxError('WORKER_CONFIG', `${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** Settings for a worker on `device` ("cuda" or "cpu") with `cpus` cores. */
export function workerSettingsFromEnv(device: string, env: NodeJS.ProcessEnv = process.env, cpus: number = availableParallelism()): WorkerSettings {
  const visibilityTimeoutSeconds = intFrom(env, ENV.visibilityTimeoutSeconds, DEFAULTS.visibilityTimeoutSeconds, 1, 43_200);
  const heartbeatSeconds = intFrom(env, ENV.heartbeatSeconds, Math.min(DEFAULTS.heartbeatSeconds, Math.max(1, Math.floor(visibilityTimeoutSeconds / 3))), 1, 43_200);
  if (heartbeatSeconds * 2 > visibilityTimeoutSeconds) {
    throw new VidxError('WORKER_CONFIG', `${ENV.heartbeatSeconds} (${heartbeatSeconds}) must be at most half of ${ENV.visibilityTimeoutSeconds} (${visibilityTimeoutSeconds}), or a slow heartbeat loses the message`);
  }
  const stopTimeoutSeconds = intFrom(env, ENV.stopTimeoutSeconds, DEFAULTS.stopTimeoutSeconds, 2, 120);
  const batchSize = intFrom(env, ENV.batchSize, batchSizeFor(device, cpus), 1, SQS_MAX_BATCH);
  const plan = drainPlan(stopTimeoutSeconds);
  const waitTimeSeconds = intFrom(env, ENV.waitTimeSeconds, plan.waitTimeSeconds, 0, plan.waitTimeSeconds);
  return { batchSize, visibilityTimeoutSeconds, heartbeatSeconds, stopTimeoutSeconds, ...plan, waitTimeSeconds };
}
