/**
 * The one rule that sorts every error into a failure class:
 *
 * - `permanent`: the file itself (not a video, corrupt, unsupported, too large, empty, an item
 *   too large for the index): the same bytes fail the same way every time, so the video (or the
 *   part of it) is recorded as failed with its code and never retried on its own;
 * - `transient`: the world around it (timeouts, HTTP 5xx and 429, connection resets, throttling,
 *   a process killed by a signal, out of memory, an aborted operation, a full disk, anything not
 *   proven to be the file): retried with backoff; it never deletes results nor fails a video.
 *
 * Errors not known to be about the file are transient: a retry costs a receive, a wrong
 * "permanent" loses an index. The retry count is bounded by the queue's maxReceiveCount.
 */
import { isVidxError, type ErrorCode } from './errors.ts';

export type FailureClass = 'transient' | 'permanent';

export interface Classified {
  class: FailureClass;
  /** For a log line: which rule decided. */
  why: string;
}

/** Codes that are a fault of the surroundings, whatever the message says. */
const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'FFMPEG_TIMEOUT',
  'VIDEO_UNREACHABLE',
  'ABORTED',
  'ENQUEUE_FAILED',
  'INDEX_UNAVAILABLE',
  'EVENT_DELIVERY_FAILED',
  'API_UNREACHABLE',
  'LOCAL_STACK_UNREACHABLE',
  'FFMPEG_NOT_FOUND',
  // Lost jobs (the sweeper gave up), not the file: a retry may well finish it.
  'STALLED',
]);

/** Codes decided from the file's own facts (size, metadata, the plan), never from a read that could fail. */
const DEFINITE_PERMANENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'EMPTY_UPLOAD',
  'VIDEO_EMPTY',
  'VIDEO_TOO_LARGE',
  'VIDEO_UNSUPPORTED',
  'ENQUEUE_REJECTED',
  'BAD_EVENT',
  'BAD_KEY_ENCODING',
  'OBJECT_NOT_FOUND',
]);

/**
 * Codes that say "the file" but come from reading it over a network: permanent unless the message
 * shows the read itself failed (a reset, a 5xx, a signal), which makes them transient.
 */
const FILE_READ_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NOT_A_VIDEO',
  'VIDEO_CORRUPT',
  'VIDEO_DECODE_FAILED',
  'VIDEO_NOT_FOUND',
  'FFMPEG_FAILED',
  'NO_FRAME',
]);

/** Node system error codes (and undici's) of a connection, a resource or a timeout. */
const TRANSIENT_SYSTEM_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'ENOMEM', 'ENOSPC', 'EMFILE', 'ENFILE', 'EBUSY', 'EAGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE', 'ERR_HTTP2_STREAM_ERROR', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/** AWS SDK error names of throttling and service-side faults. */
const TRANSIENT_SDK_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
  'RequestThrottled', 'RequestThrottledException', 'ProvisionedThroughputExceededException', 'SlowDown',
  'BandwidthLimitExceeded', 'LimitExceededException', 'TransactionInProgressException', 'TransactionConflictException',
  'ServiceUnavailable', 'ServiceUnavailableException', 'InternalServerError', 'InternalServerException', 'InternalFailure',
  'InternalError', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'AbortError', 'KMSThrottlingException',
  'EC2ThrottledException', 'PriorRequestNotComplete',
]);

/** What ffmpeg, Node and the runtimes print when a read, a process or memory failed (not the file). */
const TRANSIENT_MESSAGE =
  /connection reset|reset by peer|connection timed out|connection refused|timed out|timeout|server returned 5\d\d|server returned 429|http error 5\d\d|\b5\d\d (?:internal|bad gateway|service unavailable|gateway timeout)|broken pipe|\bEPIPE\b|\bECONNRESET\b|\bETIMEDOUT\b|i\/o error|input\/output error|network is unreachable|temporary failure in name resolution|failed to resolve|end of file.*(?:http|tcp|tls)|tls.*(?:handshake|error)|killed by signal|\(SIG[A-Z]+\)|\bSIG(?:KILL|TERM|INT|HUP|SEGV|BUS|ABRT)\b|out of memory|cannot allocate memory|heap out of memory|array buffer allocation failed|no space left on device|throttl|slow ?down|too many requests|rate exceeded/i;

/** DynamoDB's and SQS's answer to an item or message larger than they take: the data itself. */
const TOO_LARGE_MESSAGE = /item size (?:has )?exceeded|item size to update has exceeded|exceeds the maximum|too large|message must be shorter/i;

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  statusCode?: unknown;
  status?: unknown;
}

function asErrorLike(e: unknown): ErrorLike | undefined {
  return typeof e === 'object' && e !== null ? (e as ErrorLike) : undefined;
}

/** The error and its causes, outermost first (bounded: a cause cycle ends the walk). */
function chain(e: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = e;
  while (cur !== undefined && cur !== null && out.length < 8 && !out.includes(cur)) {
    out.push(cur);
    cur = asErrorLike(cur)?.cause;
  }
  return out;
}

function httpStatusOf(e: ErrorLike): number | undefined {
  const s = e.$metadata?.httpStatusCode ?? e.statusCode ?? e.status;
  return typeof s === 'number' ? s : undefined;
}

/** A transient mark on one error of the chain (not its VidxError code), or undefined. */
function transientMark(e: unknown): string | undefined {
  const x = asErrorLike(e);
  if (!x) return typeof e === 'string' && TRANSIENT_MESSAGE.test(e) ? 'message' : undefined;
  if (x.$retryable !== undefined && x.$retryable !== null && x.$retryable !== false) return 'SDK $retryable';
  const name = typeof x.name === 'string' ? x.name : '';
  if (TRANSIENT_SDK_NAMES.has(name)) return `name ${name}`;
  const code = typeof x.code === 'string' ? x.code : '';
  if (TRANSIENT_SYSTEM_CODES.has(code)) return `system code ${code}`;
  if (TRANSIENT_SDK_NAMES.has(code)) return `code ${code}`;
  const status = httpStatusOf(x);
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return `HTTP ${status}`;
  if (x.$fault === 'server') return 'SDK server fault';
  if (e instanceof RangeError && typeof x.message === 'string' && /allocation failed|out of memory/i.test(x.message)) return 'out of memory';
  if (typeof x.message === 'string' && TRANSIENT_MESSAGE.test(x.message)) return 'message';
  return undefined;
}

/** Sorts an error into its failure class (see the module comment). */
export function classifyFailure(e: unknown): Classified {
  const errors = chain(e);
  // 1. A VidxError's code decides where the code is unambiguous.
  const vidx = errors.find((x) => isVidxError(x));
  if (isVidxError(vidx)) {
    if (TRANSIENT_CODES.has(vidx.code)) return { class: 'transient', why: `code ${vidx.code}` };
    if (DEFINITE_PERMANENT_CODES.has(vidx.code)) return { class: 'permanent', why: `code ${vidx.code}` };
  }
  // 2. Anything in the chain that says the surroundings failed.
  for (const x of errors) {
    const mark = transientMark(x);
    if (mark) return { class: 'transient', why: mark };
  }
  // 3. The file itself: its codes, and an item too large for the index or the queue.
  if (isVidxError(vidx) && FILE_READ_CODES.has(vidx.code)) return { class: 'permanent', why: `code ${vidx.code}` };
  for (const x of errors) {
    const y = asErrorLike(x);
    if (y && y.name === 'ValidationException' && typeof y.message === 'string' && TOO_LARGE_MESSAGE.test(y.message)) return { class: 'permanent', why: 'item too large' };
  }
  // 4. Not proven to be the file (configuration, the model, a bug): retried, bounded by the queue's
  // receive count, then dead-lettered where an operator sees it.
  return { class: 'transient', why: isVidxError(vidx) ? `code ${vidx.code} is not about the file` : 'not known to be about the file' };
}

export function isTransient(e: unknown): boolean {
  return classifyFailure(e).class === 'transient';
}

export function isPermanent(e: unknown): boolean {
  return classifyFailure(e).class === 'permanent';
}
