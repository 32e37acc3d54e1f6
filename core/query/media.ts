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
}

/** Upload names: a plain file name (no folders), the extension of a video or an animation. */
export const UPLOAD_NAME_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N} ._()+-]{0,150}\.(mp4|m4v|mov|mkv|webm|avi|mpg|mpeg|gif|ts|wmv|flv|3gp)$/iu;
export const UPLOAD_CONTENT_TYPE_PATTERN = /^(video\/[a-z0-9.+-]{1,60}|image\/gif|application\/octet-stream)$/;
