/**
 * The one error type vidx raises on purpose, and the one definition of its codes. `code` is
 * stable (scripts, API clients and tests match on it); `message` is for a person and says what
 * is wrong; `hint` says what to do (the code's default below unless the raiser knows better).
 * `http` is the status the query API (and the local API's own routes) answer with for the code;
 * a code without one is a 500 there. Add a code here before raising it.
 */
interface CodeDefinition {
  readonly hint: string;
  readonly http?: number;
}

const CODES = {
  // Options and configuration
  BAD_OPTION: { hint: 'see `vidx <command> --help` for the accepted values' },
  INVALID_SETTING: { hint: 'set the variable to an allowed value (the processes\' settings: core/settings/processes.ts)' },
  ANALYSES_BAD: { hint: 'set VIDX_ANALYSES (or --analyses) to classify, detect or classify,detect, and VIDX_KEYFRAME_INTERVAL to a positive number of seconds' },
  WORKER_CONFIG: { hint: 'check the worker environment (VIDX_QUEUE_URL, VIDX_DEVICE, VIDX_HEALTH_PORT...)' },
  ABORTED: { hint: 'the operation was cancelled; run it again' },

  // ffmpeg and video input
  FFMPEG_NOT_FOUND: { hint: 'install ffmpeg, or point VIDX_FFMPEG / VIDX_FFPROBE at the binaries' },
  FFMPEG_FAILED: { hint: 'check the file plays; re-encoding it usually helps' },
  FFMPEG_TIMEOUT: { hint: 'the source was too slow to read; it is retried' },
  VIDEO_NOT_FOUND: { hint: 'check the path, URL or video id', http: 404 },
  VIDEO_UNREACHABLE: { hint: 'check the URL and the network' },
  VIDEO_EMPTY: { hint: 'upload the file again' },
  NOT_A_VIDEO: { hint: 'give a video file (mp4, mov, mkv, webm, avi, gif ...)' },
  VIDEO_CORRUPT: { hint: 'upload the complete file again, or re-encode it' },
  VIDEO_UNSUPPORTED: { hint: 're-encode the video with a common codec (H.264, VP9, AV1)' },
  VIDEO_TOO_LARGE: { hint: 'scale or cut the video down before indexing it' },
  VIDEO_DECODE_FAILED: { hint: 'the file may be damaged; re-encoding it usually helps' },
  MANIFEST_INPUT_INVALID: { hint: 'fix the manifest' },
  NO_FRAME: { hint: 'the time is past the video\'s last frame; thumbnails fall back to none' },

  // Models
  MODEL_UNKNOWN_ARCH: { hint: 'use one of the listed architectures' },
  MODEL_MANIFEST_DRIFT: { hint: 'the documented settings and the graph disagree: fix models/manifests.ts' },
  MODEL_MANIFEST_BAD: { hint: 'pass a manifest.json written by `vidx models convert` or `vidx models pull`' },
  MODEL_MANIFEST_MISSING: { hint: 'run `npx vidx models pull <arch>` first, point modelManifest at an existing manifest.json, or set modelManifest=generated' },
  MODEL_MANUAL_DOWNLOAD: { hint: 'download the checkpoint by hand from where the message says, then run `vidx models convert`' },
  MODEL_DOWNLOAD_FAILED: { hint: 'check the network, or convert a local checkpoint with `vidx models convert`' },
  MODEL_CHECKSUM_MISMATCH: { hint: 'the download is not the expected file: download it again' },
  MODEL_CACHE_BROKEN: { hint: 'delete the cached model folder and pull or convert it again' },
  MODEL_WRITE_FAILED: { hint: 'pick an output folder you can write to, with free space' },
  MODEL_LABELS_BAD: { hint: 'restore the file from the repository (models/kinetics400_labels.txt)' },
  MODEL_STATE_MISMATCH: { hint: 'use a checkpoint of the same architecture (PyTorchVideo model zoo)' },
  MODEL_ONNX_MISSING: { hint: 'keep the .onnx file beside its manifest, or convert the model again' },
  MODEL_CUDA_UNAVAILABLE: { hint: 'use --device cpu, or install the CUDA build of onnxruntime-node (see README "Models")' },
  MODEL_LOAD_FAILED: { hint: 'the .onnx file may be damaged: convert or pull the model again' },
  MODEL_GRAPH_MISMATCH: { hint: 'the .onnx file and its manifest do not belong together: convert the model again' },
  MODEL_INPUT_MISMATCH: { hint: 'feed the inputs the manifest describes' },
  MODEL_BAD_OPTIONS: { hint: 'see `vidx analyze --help` for the accepted values' },
  MODEL_RUN_FAILED: { hint: 'check the inputs; on CUDA, try --device cpu' },
  MODEL_CLOSED: { hint: 'load the model again' },
  MODEL_MISMATCH: { hint: 'run the worker with the model the segmenter plans for (the same VIDX_MODEL)' },
  ONNX_GRAPH_INVALID: { hint: 'a bug in the graph builder: report it with the architecture name' },
  SCORES_BAD_SHAPE: { hint: 'pass logits of [batch, classes] with the manifest labels' },
  TOKENIZER_VOCAB_BAD: { hint: 'restore the vocabulary beside the manifest (models/clip_bpe_simple_vocab_16e6.txt.gz), or convert or pull the model again' },
  EMBED_BAD_OPTIONS: { hint: 'see `vidx embed --help`: pass --text or --image, and the manifest of an embed-text-image model' },
  ONNX_PREFIX_INVALID: { hint: 'a bug in the uint8 entry builder: report it with the architecture name' },

  // PyTorch checkpoints (models/torch)
  CHECKPOINT_NOT_FOUND: { hint: 'check the path, or run `vidx models pull <arch>` to download the checkpoint' },
  CHECKPOINT_UNREADABLE: { hint: 'check that the path is a regular file you can read' },
  CHECKPOINT_FORMAT: { hint: 'pass a file written by torch.save (.pyth/.pth/.pt); it may be corrupt: download it again' },
  CHECKPOINT_TRUNCATED: { hint: 'the file is incomplete (interrupted download or copy?): download it again' },
  CHECKPOINT_UNSUPPORTED: { hint: 're-save the checkpoint with plain torch.save(state_dict) from PyTorch' },
  CHECKPOINT_UNSAFE: { hint: 'do not use this file: it is not a plain checkpoint and may be malicious' },
  CHECKPOINT_NO_STATE_DICT: { hint: 'save the model with torch.save({"model_state": model.state_dict()}) or torch.save(model.state_dict())' },
  CHECKPOINT_WRITE_INVALID: { hint: 'pass contiguous tensors whose data length matches their shape and dtype' },

  // Analysis and timelines
  ANALYZE_BAD_OPTIONS: { hint: 'see `vidx analyze --help` for the accepted values' },
  ANALYZE_BAD_BATCH: { hint: 'a bug in the window reader: report it with the video' },
  ANALYZE_BAD_LOGITS: { hint: 'the model does not output [batch, classes]: check the manifest' },
  ANALYZE_BAD_RESULT: { hint: 'pass a result written by this version of `vidx analyze`' },
  TIMELINE_BAD_OPTIONS: { hint: 'use a threshold in [0, 1] and a gap >= 0' },
  TIMELINE_BAD_WINDOWS: { hint: 'pass each window once' },
  ANNOTATE_BAD_OUTPUT: { hint: 'give --annotate a new file path (e.g. out.mp4), not the input video' },
  INSPECT_BAD_TIME: { hint: 'give a start time within the video' },

  // Pipeline (segmenter, worker, index)
  BAD_EVENT: { hint: 'send an S3 ObjectCreated notification', http: 400 },
  BAD_KEY_ENCODING: { hint: 'S3 event keys are URL-encoded, with + for spaces', http: 400 },
  EMPTY_UPLOAD: { hint: 'upload the file again' },
  OBJECT_NOT_FOUND: { hint: 'upload the file again' },
  PLAN_BAD_INPUT: { hint: 'use a positive clip length (VIDX_CLIP_SECONDS)' },
  ENQUEUE_FAILED: { hint: 'check the clip queue and its permissions; upload the file again' },
  ENQUEUE_REJECTED: { hint: 'the clip queue refused the job for good; upload the file again (a very unusual key may need renaming)' },
  STALLED: { hint: 'the video made no progress after several re-enqueues; run `vidx reindex --video <id>` or upload it again' },
  CLIP_TOO_LARGE: { hint: 'the clip result is larger than the index can store: index the video with shorter clips (VIDX_CLIP_SECONDS) or a longer keyframe interval' },
  ASSEMBLY_INCOMPLETE: { hint: 'the video is assembled again when its missing clips are scored' },
  SEGMENTER_FAILED: { hint: 'see the `vidx local` log for the cause', http: 502 },
  EVENTS_CONFIG: { hint: 'check the event sink settings (VIDX_WEBHOOK_URL with its secret, SNS topic, event bus)' },
  EVENT_DELIVERY_FAILED: { hint: 'check the sink is reachable; the event is delivered again on the next attempt' },
  EXPORT_TOO_LARGE: { hint: 'export as csv or vtt, or raise minDuration/threshold to merge segments', http: 422 },
  TIMELINE_CHANGING: { hint: 'try again in a few seconds', http: 409 },
  MODEL_NOT_RUNNING: { hint: 'restart `vidx local --model <that manifest>`, then re-index', http: 409 },
  VIDEO_BUSY: { hint: 'wait until the video is indexed or failed, then delete it', http: 409 },
  REINDEX_NO_PLAN: { hint: 'upload the file again (a new revision is planned from scratch)' },

  // Query API (and the local API's own routes)
  INVALID_PARAMETER: { hint: 'see the parameters in README "Query API"', http: 400 },
  UNKNOWN_PARAMETER: { hint: 'remove the parameter; see README "Query API"', http: 400 },
  INVALID_CURSOR: { hint: 'pass back the nextCursor of the previous page unchanged, with the same query', http: 400 },
  UNKNOWN_ACTION: { hint: 'list the labels with GET /actions', http: 400 },
  INVALID_REQUEST: { hint: 'send a GET request with query parameters', http: 400 },
  ROUTE_NOT_FOUND: { hint: 'routes: /actions, /search, /videos, /videos/{id}, /videos/{id}/timeline', http: 404 },
  METHOD_NOT_ALLOWED: { hint: 'use GET', http: 405 },
  PAYLOAD_TOO_LARGE: { hint: 'send a smaller body (the query API takes none)', http: 413 },
  INDEX_UNAVAILABLE: { hint: 'try again shortly', http: 503 },
  MEDIA_UNAVAILABLE: { hint: 'this API cannot sign media URLs here (no bucket configured)', http: 501 },
  INTERNAL: { hint: 'a bug: see the server log', http: 500 },
  HOST_NOT_ALLOWED: { hint: 'open the local stack as http://127.0.0.1:<port> (or localhost, [::1])', http: 403 },
  ORIGIN_NOT_ALLOWED: { hint: 'change local state from the vidx page itself or from the CLI, not from another site', http: 403 },

  // Vectors, similarity and taught actions
  VECTOR_DIMENSION_MISMATCH: { hint: 'write the vectors of each space separately, all of one length' },
  VECTOR_PART_MISMATCH: { hint: 'write each video revision\'s vectors in its own parts' },
  VECTOR_QUERY_INVALID: { hint: 'ask for 1 to 1000 hits with a vector of the space\'s length', http: 400 },
  VECTOR_STORE_DAMAGED: { hint: 'delete the named file (its video is re-embedded by `vidx reindex --video <id>`)' },
  VECTOR_STORE_FAILED: { hint: 'check the vector index is reachable and its permissions; the write is retried' },
  TEACH_TOO_FEW_EXAMPLES: { hint: 'give at least two positive and two negative examples that have stored features', http: 422 },
  TEACH_BAD_EXAMPLES: { hint: 'give examples as <videoId>[@<start>-<end>] of indexed videos', http: 400 },

  // The CLI talking to an API or the local stack
  API_UNREACHABLE: { hint: 'is the API running? start one with `vidx local`, or pass --api' },
  API_ERROR: { hint: 'is --api the vidx query API?' },
  LOCAL_STACK_UNREACHABLE: { hint: 'start it with `npx vidx local`, or pass --api' },
  LOCAL_STACK_ERROR: { hint: 'see the `vidx local` log for the cause' },
  DATA_INDEX_DAMAGED: { hint: 'move the damaged index folder aside and start again (the kept uploads are indexed again), or put back a backup' },
  KEPT_COPY_DAMAGED: { hint: 'the copy `vidx local` kept of this upload is damaged: upload the video again' },
  DISK_FULL: { hint: 'free space on the disk of the --data folder, then upload again', http: 507 },
  STACK_NOT_FOUND: { hint: 'deploy the stack first (`npx cdk deploy`), or pass the right --stack name and AWS region' },
  UPLOAD_NO_FILE: { hint: 'pass paths of video files' },
  PORT_IN_USE: { hint: 'stop what listens there (another `vidx local`?), or pass --port <another>' },
  VIDEO_AMBIGUOUS: { hint: 'pass the video id (the first column of `vidx videos`) or the full key' },
} as const satisfies Record<string, CodeDefinition>;

/** Every code vidx raises. */
export type ErrorCode = keyof typeof CODES;

export const ERROR_CODES = Object.keys(CODES) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(CODES, value);
}

/** What to do about `code` when the raiser has nothing more specific. */
export function hintOf(code: ErrorCode): string {
  return CODES[code].hint;
}

/** The HTTP status an API answers with for `code` (500 when the code has none). */
export function httpStatusOf(code: ErrorCode): number {
  const def: CodeDefinition = CODES[code];
  return def.http ?? 500;
}

export class VidxError extends Error {
  override readonly name = 'VidxError';
  readonly code: ErrorCode;
  readonly hint: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint ?? hintOf(code);
  }

  /** For a terminal: the message and code, then what to do on the next line. */
  describe(): string {
    return `${this.message} [${this.code}]\n  -> ${this.hint}`;
  }
}

export function isVidxError(e: unknown, code?: ErrorCode): e is VidxError {
  return e instanceof VidxError && (code === undefined || e.code === code);
}
