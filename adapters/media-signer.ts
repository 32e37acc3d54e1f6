/** S3 presigned URLs for the query API's media routes (core/query/media.ts). */
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { MediaSigner } from '../core/query/media.ts';

/** Long enough to watch a long video from one URL; short enough that a leaked link soon dies. */
export const MEDIA_URL_SECONDS = 900;

export class S3MediaSigner implements MediaSigner {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly expiresIn = MEDIA_URL_SECONDS,
  ) {}

  getUrl(key: string): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: this.expiresIn });
  }

  putUrl(key: string, contentType: string): Promise<string> {
    // content-type is signed: the PUT must send exactly it, and nothing else can be smuggled in.
    return getSignedUrl(this.s3, new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }), {
      expiresIn: this.expiresIn,
      signableHeaders: new Set(['content-type']),
    });
  }

  createMultipartUrl(key: string, contentType: string): Promise<string> {
    // As with a single PUT, the content type is signed: the object gets exactly it.
    return getSignedUrl(this.s3, new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }), {
      expiresIn: this.expiresIn,
      signableHeaders: new Set(['content-type']),
    });
  }

  uploadPartUrls(key: string, uploadId: string, parts: number): Promise<string[]> {
    return Promise.all(
      Array.from({ length: parts }, (_, i) =>
        getSignedUrl(this.s3, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: i + 1 }), { expiresIn: this.expiresIn }),
      ),
    );
  }

  completeMultipartUrl(key: string, uploadId: string): Promise<string> {
    return getSignedUrl(this.s3, new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), { expiresIn: this.expiresIn });
  }

  abortMultipartUrl(key: string, uploadId: string): Promise<string> {
    return getSignedUrl(this.s3, new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), { expiresIn: this.expiresIn });
  }
}
