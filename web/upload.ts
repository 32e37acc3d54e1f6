/// <reference lib="dom" />
/**
 * Sending one file to storage from the page, as S3 takes it: a presigned PUT for a file of one
 * part; above that a multipart upload (a presigned CreateMultipartUpload POST, a presigned PUT per
 * part, a few at a time, each retried, then the CompleteMultipartUpload POST with every part's
 * ETag). Progress counts the bytes that have really left, across the parts in flight.
 */
import { ApiError, type Api } from './api.ts';

/** Parts in flight at once. */
const PART_CONCURRENCY = 3;
/** Tries per part (a dropped connection or a 5xx is tried again). */
const PART_TRIES = 3;

interface Sent {
  status: number;
  etag: string | null;
  body: string;
}

/** One request with upload progress (fetch cannot report it). `progress` gets the bytes sent so far. */
function send(method: string, url: string, headers: Record<string, string>, body: Blob | string | null, progress?: (sent: number) => void): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    if (progress) xhr.upload.onprogress = (e) => progress(e.loaded);
    xhr.onload = () => resolve({ status: xhr.status, etag: xhr.getResponseHeader('etag'), body: xhr.responseText });
    xhr.onerror = () => reject(new ApiError(0, 'UPLOAD_FAILED', 'the upload could not reach storage'));
    xhr.send(body);
  });
}

function refused(what: string, r: Sent): ApiError {
  const code = /<Code>([^<]+)<\/Code>/.exec(r.body)?.[1];
  const json = /"message"\s*:\s*"([^"]+)"/.exec(r.body)?.[1];
  const why = r.status === 413 ? 'the file is too large for this storage' : code ? code : json ? json : `status ${r.status}`;
  return new ApiError(r.status, 'UPLOAD_FAILED', `storage refused the ${what} (${why})`);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The CompleteMultipartUpload body: each part's number and ETag, in order. */
export function completeXml(etags: readonly string[]): string {
  return `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(e)}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
}

/** Sends `file` as `file.name` under the video prefix; `progress` gets the fraction sent (0..1). Resolves with the video id. */
export async function uploadFile(api: Api, file: File, progress: (fraction: number) => void): Promise<string> {
  const type = file.type || 'application/octet-stream';
  const target = await api.uploadUrl(file.name, type, file.size);
  const total = Math.max(1, file.size);
  if (target.method === 'PUT') {
    const r = await send('PUT', target.url, target.headers, file, (sent) => progress(sent / total));
    if (r.status < 200 || r.status >= 300) throw refused('upload', r);
    progress(1);
    return target.videoId;
  }
  const created = await send('POST', target.url, target.headers, null);
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)?.[1];
  if (created.status !== 200 || !uploadId) throw refused('start of the upload', created);
  const urls = await api.uploadParts(file.name, uploadId, target.parts);
  try {
    const sent = new Array<number>(target.parts).fill(0);
    const etags = new Array<string>(target.parts);
    const report = () => progress(Math.min(1, sent.reduce((a, b) => a + b, 0) / total));
    let next = 0;
    const worker = async () => {
      while (next < target.parts) {
        const i = next++;
        const part = file.slice(i * target.partSize, Math.min(file.size, (i + 1) * target.partSize));
        etags[i] = await sendPart(urls.parts[i]!, part, i + 1, (n) => {
          sent[i] = n;
          report();
        });
        sent[i] = part.size;
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, target.parts) }, worker));
    const done = await send('POST', urls.complete, { 'content-type': 'application/xml' }, completeXml(etags));
    if (done.status !== 200 || !done.body.includes('CompleteMultipartUploadResult')) throw refused('completion of the upload', done);
    progress(1);
    return target.videoId;
  } catch (e) {
    // Best effort: storage also drops unfinished uploads after a day.
    await send('DELETE', urls.abort, {}, null).catch(() => undefined);
    throw e;
  }
}

async function sendPart(url: string, part: Blob, n: number, progress: (sent: number) => void): Promise<string> {
  let last: unknown;
  for (let attempt = 1; attempt <= PART_TRIES; attempt++) {
    try {
      const r = await send('PUT', url, {}, part, progress);
      if (r.status >= 200 && r.status < 300 && r.etag) return r.etag;
      last = refused(`part ${n}`, r);
      if (r.status < 500) break; // refused for good (expired, forbidden, too large)
    } catch (e) {
      last = e;
    }
    progress(0);
  }
  throw last;
}
