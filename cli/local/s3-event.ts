/** An S3 ObjectCreated:Put notification exactly as S3 sends it to Lambda (keys URL-encoded, '+' for spaces). */
import { randomBytes } from 'node:crypto';
import { DEFAULTS } from '../../core/names.ts';

export interface CreatedObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

/** S3's key encoding in events: like encodeURIComponent but spaces become '+' and '/' stays. */
export function encodeS3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export function s3CreatedEvent(objects: readonly CreatedObject[], region: string = DEFAULTS.region): { Records: unknown[] } {
  const now = new Date().toISOString();
  return {
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventTime: now,
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'vidx-local' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': randomBytes(8).toString('hex').toUpperCase(), 'x-amz-id-2': randomBytes(16).toString('base64') },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'vidx-local-upload',
        bucket: { name: o.bucket, ownerIdentity: { principalId: 'vidx-local' }, arn: `arn:aws:s3:::${o.bucket}` },
        object: { key: encodeS3EventKey(o.key), size: o.size, eTag: o.etag, sequencer: Date.now().toString(16).toUpperCase().padStart(18, '0') },
      },
    })),
  };
}
