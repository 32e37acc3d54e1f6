/**
 * The failure classes: every error is transient (retried, never deletes results) or permanent
 * (the file itself). Errors here have the shapes the real libraries raise: the SDK's modelled
 * exceptions, Node's system errors, DOMException aborts, and vidx's own typed errors.
 */
import { describe, expect, it } from 'vitest';
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  InternalServerError,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import { classifyFailure, isPermanent, isTransient } from '../../core/failure-class.ts';
import { VidxError, type ErrorCode } from '../../core/errors.ts';
import { toolError } from '../../core/video/ffmpeg.ts';

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'r', attempts: 3, totalRetryDelay: 300 });

/** A Node system error as libuv reports it (net, fs, http all build them this way). */
function systemError(code: string, syscall: string, message = `${syscall} ${code}`): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, syscall, errno: -1 });
}

describe('transient: the surroundings failed, the file may be fine', () => {
  it.each([
    ['DynamoDB throttling', new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: meta(400) })],
    ['a request limit', new RequestLimitExceeded({ message: 'Throughput exceeds the current throughput limit for your account', $metadata: meta(400) })],
    ['a ThrottlingException', new ThrottlingException({ message: 'Rate exceeded', $metadata: meta(400) })],
    ['an internal server error', new InternalServerError({ message: 'Internal server error', $metadata: meta(500) })],
    ['a generic 503', new DynamoDBServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'Service Unavailable', $metadata: meta(503) })],
    ['an SDK error marked $retryable', Object.assign(new DynamoDBServiceException({ name: 'SomethingNew', $fault: 'client', message: 'x', $metadata: meta(400) }), { $retryable: { throttling: true } })],
  ])('%s', (_what, e) => {
    expect(classifyFailure(e).class).toBe('transient');
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENOMEM', 'ENOSPC', 'UND_ERR_SOCKET'])('a Node system error %s', (code) => {
    expect(isTransient(systemError(code, 'read'))).toBe(true);
  });

  it('the SDK request handler timing out on a reset socket ("TimeoutError: read ECONNRESET")', () => {
    const e = Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: { attempts: 3 } });
    expect(classifyFailure(e)).toEqual({ class: 'transient', why: 'name TimeoutError' });
  });

  it('an aborted operation and a timed-out fetch (DOMException AbortError / TimeoutError)', () => {
    const ac = new AbortController();
    ac.abort();
    expect(isTransient(ac.signal.reason)).toBe(true);
    expect(isTransient(new DOMException('The operation timed out.', 'TimeoutError'))).toBe(true);
  });

  it('running out of memory (V8 allocation, CUDA)', () => {
    expect(isTransient(new RangeError('Array buffer allocation failed'))).toBe(true);
    expect(isTransient(new VidxError('MODEL_RUN_FAILED', 'onnxruntime: CUDA failure 2: out of memory'))).toBe(true);
  });

  it('ffmpeg killed by a signal (the OOM killer, a stop)', () => {
    const e = toolError('ffmpeg', { code: null, signal: 'SIGKILL', stderr: '', killedFor: null }, 'cutting a frame');
    expect(e.code).toBe('FFMPEG_FAILED');
    expect(classifyFailure(e).class).toBe('transient');
  });

  it('a decode that failed because the HTTP read was reset or answered 5xx', () => {
    const reset = new VidxError('VIDEO_DECODE_FAILED', 'decoding s3://b/k failed: tcp: Connection reset by peer; Error during demuxing: I/O error');
    const server = new VidxError('NOT_A_VIDEO', 's3://b/k is not a video file ffmpeg can read: http: HTTP error 503 Service Unavailable');
    expect(isTransient(reset)).toBe(true);
    expect(isTransient(server)).toBe(true);
  });

  it.each<ErrorCode>(['FFMPEG_TIMEOUT', 'VIDEO_UNREACHABLE', 'ABORTED', 'ENQUEUE_FAILED', 'INDEX_UNAVAILABLE', 'EVENT_DELIVERY_FAILED'])('vidx code %s', (code) => {
    expect(isTransient(new VidxError(code, 'whatever the message'))).toBe(true);
  });

  it('a transient cause under a wrapping error', () => {
    const e = new Error('assembly failed', { cause: systemError('ECONNRESET', 'read') });
    expect(classifyFailure(e)).toEqual({ class: 'transient', why: 'system code ECONNRESET' });
  });

  it('anything not proven to be the file (a bug, a condition, a configuration code)', () => {
    expect(isTransient(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(true);
    expect(isTransient(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: meta(400) }))).toBe(true);
    expect(isTransient(new VidxError('INVALID_SETTING', 'VIDX_MODEL is not set'))).toBe(true);
    // A worker of another model, jobs lost after the sweeper's re-enqueues: a deployment fixed later retries them.
    expect(isTransient(new VidxError('MODEL_MISMATCH', 'the clip was planned for model i3d_r50 but this worker runs slowfast_r50'))).toBe(true);
    expect(isTransient(new VidxError('STALLED', 'no progress after 3 re-enqueue(s)'))).toBe(true);
  });
});

describe('permanent: the file itself', () => {
  it.each<[ErrorCode, string]>([
    ['NOT_A_VIDEO', 's3://b/notes.mp4 is not a video file ffmpeg can read: Invalid data found when processing input'],
    ['VIDEO_CORRUPT', 's3://b/cut.mp4 is truncated or corrupt: moov atom not found'],
    ['VIDEO_UNSUPPORTED', 's3://b/x.mkv: video codec foo cannot be decoded'],
    ['VIDEO_TOO_LARGE', 's3://b/x.mp4 is 16000x9000; at most 8192 px per side is accepted'],
    ['VIDEO_DECODE_FAILED', 'decoding s3://b/x.mp4: output frame 3 has pts 900, expected 600'],
    ['EMPTY_UPLOAD', 'the upload is empty (0 bytes), so there is no video to index'],
    ['ENQUEUE_REJECTED', 'the clip queue refused a clip job: InvalidMessageContents'],
  ])('%s', (code, message) => {
    expect(classifyFailure(new VidxError(code, message))).toEqual({ class: 'permanent', why: `code ${code}` });
  });

  it('an item too large for the index (DynamoDB ValidationException)', () => {
    const e = new DynamoDBServiceException({ name: 'ValidationException', $fault: 'client', message: 'Item size has exceeded the maximum allowed size', $metadata: meta(400) });
    expect(classifyFailure(e)).toEqual({ class: 'permanent', why: 'item too large' });
  });

  it('a definite code stays permanent even when its message mentions a timeout', () => {
    expect(isPermanent(new VidxError('VIDEO_TOO_LARGE', 'x lasts 30 h (the probe timed out once before)'))).toBe(true);
  });
});
