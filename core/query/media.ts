/**
 * What the API needs to hand a browser short-lived URLs: the video to play, the thumbnails, and a
 * PUT for a new upload. adapters/media-signer.ts implements it with S3 presigned URLs; the API
 * knows nothing of S3.
 */
export interface MediaSigner {
  /** Seconds a signed URL stays valid. */
  readonly expiresIn: number;
  /** A GET URL of an object of the videos bucket (a video or a thumbnail). */
  getUrl(key: string): Promise<string>;
  /** A PUT URL for a new object; the browser must send `content-type: contentType`. */
  putUrl(key: string, contentType: string): Promise<string>;
  /** The bucket the keys live in (the video id is derived from bucket and key). */
  readonly bucket: string;
  /** A POST URL that starts a multipart upload of `key` (S3 CreateMultipartUpload); the browser sends `content-type: contentType`. */
  createMultipartUrl(key: string, contentType: string): Promise<string>;
  /** PUT URLs of parts 1..`parts` of an upload (S3 UploadPart). */
  uploadPartUrls(key: string, uploadId: string, parts: number): Promise<string[]>;
  /** The POST URL that completes the upload (S3 CompleteMultipartUpload; the browser sends the parts' XML). */
  completeMultipartUrl(key: string, uploadId: string): Promise<string>;
  /** The DELETE URL that abandons the upload (S3 AbortMultipartUpload). */
  abortMultipartUrl(key: string, uploadId: string): Promise<string>;
}

/** A file larger than one part goes up in parts (S3 multipart). 8 MiB: above S3's 5 MiB minimum, below the local emulator's body limit. */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
/** At most this many parts per upload (S3 allows 10,000; fewer keeps the list of part URLs small): larger files get larger parts. */
export const MAX_UPLOAD_PARTS = 1000;
/** S3's largest object (5 TiB). */
export const MAX_UPLOAD_BYTES = 5 * 1024 ** 4;

/** The part size of a file of `size` bytes: UPLOAD_PART_BYTES, or larger (whole MiB) to stay within MAX_UPLOAD_PARTS. */
export function partSizeFor(size: number): number {
  const mib = 1024 * 1024;
  return Math.max(UPLOAD_PART_BYTES, Math.ceil(size / MAX_UPLOAD_PARTS / mib) * mib);
}

/** What S3 calls an upload id: printable, URL-safe characters (the emulator's are UUIDs). */
export const UPLOAD_ID_PATTERN = /^[A-Za-z0-9._~+=/-]{1,1024}$/;

/** Upload names: a plain file name (no folders), the extension of a video or an animation. */
export const UPLOAD_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._()+-]{0,150}\.(mp4|m4v|mov|mkv|webm|avi|mpg|mpeg|gif|ts|wmv|flv|3gp)$/iu;
export const UPLOAD_CONTENT_TYPE_PATTERN = /^(video\/[a-z0-9.+-]{1,60}|image\/gif|application\/octet-stream)$/;
