/**
 * The worker's queue settings, worked out from its parsed settings (core/settings/processes.ts
 * WORKER_SETTINGS, set by cdk/config.ts on the task) once the device is known: the batch sized to
 * the machine, the heartbeat to the visibility timeout and the drain to the stop timeout.
 */
import { availableParallelism } from 'node:os';
import { SQS_MAX_BATCH, WORKER_SETTINGS, defaultHeartbeatSeconds, drainPlan, type DrainPlan, type WorkerEnvSettings } from '../core/settings/processes.ts';

export { drainPlan } from '../core/settings/processes.ts';

export interface WorkerSettings extends DrainPlan {
  /** Clip messages per receive; their clips are scored together. */
  batchSize: number;
  visibilityTimeoutSeconds: number;
  heartbeatSeconds: number;
  /** The ECS stop timeout: SIGTERM to SIGKILL. */
  stopTimeoutSeconds: number;
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

export type QueueSettings = Pick<WorkerEnvSettings, 'visibilityTimeoutSeconds' | 'heartbeatSeconds' | 'stopTimeoutSeconds' | 'waitTimeSeconds' | 'batchSize'>;

/** The queue settings of a worker on `device` ("cuda" or "cpu") with `cpus` cores. */
export function workerSettingsOf(s: QueueSettings, device: string, cpus: number = availableParallelism()): WorkerSettings {
  const plan = drainPlan(s.stopTimeoutSeconds);
  return {
    batchSize: s.batchSize ?? batchSizeFor(device, cpus),
    visibilityTimeoutSeconds: s.visibilityTimeoutSeconds,
    heartbeatSeconds: s.heartbeatSeconds ?? defaultHeartbeatSeconds(s.visibilityTimeoutSeconds),
    stopTimeoutSeconds: s.stopTimeoutSeconds,
    ...plan,
    waitTimeSeconds: s.waitTimeSeconds ?? plan.waitTimeSeconds,
  };
}

/** The queue settings of a worker whose environment sets none (the schema's defaults). */
export const DEFAULT_QUEUE_SETTINGS: QueueSettings = WORKER_SETTINGS.schema
  .pick({ visibilityTimeoutSeconds: true, heartbeatSeconds: true, stopTimeoutSeconds: true, waitTimeSeconds: true, batchSize: true })
  .parse({});
