/**
 * Where `vidx upload` sends files: the local stack (its emulated S3, then the S3 event delivered
 * by POST /_local/s3-event, since the emulator sends none) or a deployed stack (its bucket and
 * table from the CloudFormation outputs; S3 itself notifies the segmenter).
 */
import type { Gap } from '../../core/gap.ts';
import { S3Client } from '@aws-sdk/client-s3';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { VidxError } from '../../core/errors.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { createClients } from '../../adapters/clients.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import type { TimelineResponse } from '../../core/query/api.ts';
import { windowProgress, type WindowProgress } from '../../core/pipeline/progress.ts';
import { s3CreatedEvent } from '../local/s3-event.ts';
import type { LocalConfig } from '../local/stack.ts';
import type { UploadedFile } from '../local/upload.ts';


/** What the segmenter made of an uploaded file, as far as the uploader can tell. */
export interface Delivery {
  outcome: string;
  clips?: number;
  reason?: string;
  why?: string;
}

export interface VideoProgress {
  status: string;
  reason?: string | undefined;
  /** indexed_with_gaps: the ranges missing from the timeline. */
  gaps?: readonly Gap[] | undefined;
  clipsDone?: number | undefined;
  clipsTotal?: number | undefined;
  segments?: number | undefined;
  /** Windows scored of the revision, with an ETA (core/pipeline/progress.ts). */
  progress?: WindowProgress | undefined;
}

export interface UploadTarget {
  /** For messages: where the files go. */
  readonly name: string;
  readonly s3: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  /** Tells the segmenter about the uploaded files (locally); one delivery per file, in order. */
  notify(uploaded: readonly UploadedFile[]): Promise<Delivery[]>;
  progress(videoId: string): Promise<VideoProgress | undefined>;
  /** The indexed video's segments (label, score) and whether its model is trained. */
  timeline(videoId: string): Promise<{ segments: { label: string; score: number }[]; video: { trained?: boolean } }>;
  /** How a person follows these videos after the command ends. */
  followHint(videoIds: readonly string[]): string;
  close(): void;
}

async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  let r: Response;
  try {
    r = await fetch(url, init);
  } catch (e) {
    throw new VidxError('LOCAL_STACK_UNREACHABLE', `cannot reach the local stack at ${new URL(url).origin}`, {
      hint: 'start it with `npm start` (or `npx vidx local`) in another terminal, pass --api, or --stack for a deployed one',
      cause: e,
    });
  }
  const text = await r.text();
  if (!r.ok) throw new VidxError('LOCAL_STACK_ERROR', `${url} answered ${r.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function localTarget(apiUrl: string): Promise<UploadTarget> {
  const api = apiUrl.replace(/\/+$/, '');
  const config = await getJson<LocalConfig>(`${api}/_local/config`);
  const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return {
    name: `the local stack at ${api}`,
    s3,
    bucket: config.bucket,
    prefix: config.prefix,
    async notify(uploaded) {
      if (uploaded.length === 0) return [];
      const r = await getJson<{ results: Delivery[] }>(`${api}/_local/s3-event`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(s3CreatedEvent(uploaded, config.region)),
      });
      return uploaded.map((_, i) => r.results[i] ?? { outcome: '?' });
    },
    async progress(videoId) {
      const v = await getJson<VideoProgress & { video?: VideoProgress }>(`${api}/videos/${videoId}`);
      return v.video ?? v;
    },
    timeline: (videoId) => getJson<TimelineResponse>(`${api}/videos/${videoId}/timeline`),
    followHint: (ids) => [`follow: npx vidx videos --api ${api}`, ...ids.map((id) => `        curl ${api}/videos/${id}   (timeline: ${api}/videos/${id}/timeline)`)].join('\n'),
    close: () => s3.destroy(),
  };
}

/** The stack's outputs by key (cdk/vidx-stack.ts: BucketName, TableName, VideoPrefix, ApiUrl). */
export async function stackOutputs(stackName: string, region: string | undefined): Promise<Record<string, string>> {
  const cf = new CloudFormationClient(region ? { region } : {});
  try {
    const r = await cf.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs: Record<string, string> = {};
    for (const o of r.Stacks?.[0]?.Outputs ?? []) if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
    return outputs;
  } catch (e) {
    throw new VidxError('STACK_NOT_FOUND', `cannot read the outputs of the stack "${stackName}": ${(e as Error).message}`, {
      hint: 'check the stack name (npx cdk list), the region (--region or AWS_REGION) and your AWS credentials',
      cause: e,
    });
  } finally {
    cf.destroy();
  }
}

export async function deployedTarget(stackName: string, region: string | undefined): Promise<UploadTarget> {
  const outputs = await stackOutputs(stackName, region);
  const bucket = outputs.BucketName;
  const table = outputs.TableName;
  if (!bucket || !table) throw new VidxError('STACK_NOT_FOUND', `the stack "${stackName}" has no BucketName/TableName outputs: is it a vidx stack?`);
  const clients = createClients({ region: region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1' });
  const store = createIndex(clients, table);
  return {
    name: `the stack ${stackName} (s3://${bucket})`,
    s3: clients.s3,
    bucket,
    prefix: outputs.VideoPrefix ?? VIDEO_PREFIX,
    // S3 sends the ObjectCreated event to the segmenter itself.
    notify: async (uploaded) => uploaded.map(() => ({ outcome: 'uploaded (S3 notifies the segmenter)' })),
    async progress(videoId) {
      const v = await store.getVideo(videoId, { consistent: false });
      return v && { status: v.status, reason: v.reason, gaps: v.gaps, clipsDone: v.doneClips.length, clipsTotal: v.clipsTotal, segments: v.segments, progress: windowProgress(v, Date.now()) };
    },
    async timeline(videoId) {
      const [v, segments] = await Promise.all([store.getVideo(videoId, { consistent: false }), store.timelineOf(videoId)]);
      return { segments, video: { trained: v?.trained } };
    },
    followHint: (ids) => `follow: GET /videos/{id} on the ApiUrl output of ${stackName} (SigV4-signed; see the README's Deploy section), for ${ids.join(', ')}`,
    close: () => clients.destroy(),
  };
}
