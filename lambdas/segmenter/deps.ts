/**
 * The one builder of the segmenter's dependencies over AWS clients: the Lambda (from its
 * environment), `vidx local` and the tests (against the emulators) all wire it here.
 */
import { planKeyframes } from '../../core/detection/keyframes.ts';
import type { AwsClients } from '../../adapters/clients.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import { s3VideoObjects } from '../../adapters/objects.ts';
import { sqsClipQueue } from '../../adapters/queue.ts';
import { DEFAULTS, VIDEO_PREFIX } from '../../core/names.ts';
import type { Manifest } from '../../core/model/manifest.ts';
import type { PipelineLog } from '../../core/pipeline/ports.ts';
import type { SegmenterDeps } from '../../core/pipeline/segment.ts';
import { probe } from '../../core/video/probe.ts';
import { planWindows } from '../../core/video/windows.ts';

export interface SegmenterWiring {
  clients: Pick<AwsClients, 's3' | 'sqs' | 'doc'>;
  tableName: string;
  /** Write shards per label of the search index (default INDEX_DEFAULTS.labelShards). */
  labelShards?: number | undefined;
  queueUrl: string;
  /** The model the clips are planned for: its id and its window arithmetic. */
  model: Pick<Manifest, 'architecture' | 'trained' | 'frames' | 'samplingRate' | 'fps'>;
  /** sha256 of the manifest file (recorded with each revision and sent with each job). */
  manifestSha256?: string | undefined;
  /** Where done/failed events go. */
  events?: SegmenterDeps['events'];
  clipSeconds?: number | undefined;
  /** Where the deployment detects people: the keyframe interval (s); clips are planned over keyframe times too. */
  keyframeInterval?: number | undefined;
  prefix?: string | undefined;
  log: PipelineLog;
}

export function buildSegmenterDeps(w: SegmenterWiring): SegmenterDeps {
  return {
    objects: s3VideoObjects(w.clients.s3),
    queue: sqsClipQueue(w.clients.sqs, w.queueUrl),
    store: createIndex(w.clients, w.tableName, { labelShards: w.labelShards }),
    prefix: w.prefix ?? VIDEO_PREFIX,
    clipSeconds: w.clipSeconds ?? DEFAULTS.clipSeconds,
    model: { architecture: w.model.architecture, trained: w.model.trained, manifestSha256: w.manifestSha256 },
    events: w.events,
    probe: (url) => probe(url),
    windowStarts: (duration) => planWindows(duration, w.model).map((win) => win.start),
    ...(w.keyframeInterval === undefined ? {} : { keyframeTimes: (duration: number) => planKeyframes(duration, w.keyframeInterval).map((k) => k.t) }),
    log: w.log,
  };
}
