/**
 * The local S3 path's presigned-URL check (cli/local/presigned.ts) agrees with the AWS SDK's
 * presigner on every presigned S3 request the page makes (PUT object, and the multipart calls),
 * and refuses as S3 does: no signature, another secret or key, a changed path, query or signed
 * header, an expired or not-yet-valid date, an over-long expiry.
 */
import { describe, expect, it } from 'vitest';
import { S3Client, PutObjectCommand, GetObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3ErrorXml, verifyPresignedRequest } from '../../cli/local/presigned.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'the-run-secret' };
const ENDPOINT = 'http://127.0.0.1:8787/_local/s3';
const s3 = new S3Client({ region: 'us-east-1', endpoint: ENDPOINT, forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
const signedAt = new Date('2026-12-04T12:00:00Z');

type Presignable = PutObjectCommand | GetObjectCommand | CreateMultipartUploadCommand | UploadPartCommand | CompleteMultipartUploadCommand | AbortMultipartUploadCommand;

async function presigned(command: Presignable, o: { expiresIn?: number; contentType?: boolean } = {}) {
  // getSignedUrl is generic over one command type: each is signed the same way.
  const url = new URL(await getSignedUrl(s3, command as PutObjectCommand, { expiresIn: o.expiresIn ?? 900, signingDate: signedAt, ...(o.contentType ? { signableHeaders: new Set(['content-type']) } : {}) }));
  return { target: `${url.pathname}${url.search}`, host: url.host };
}

const at = (seconds: number) => new Date(signedAt.getTime() + seconds * 1000);

describe('verifyPresignedRequest', () => {
  it.each([
    ['PUT', new PutObjectCommand({ Bucket: 'vidx-videos', Key: 'videos/ski run (1).mp4', ContentType: 'video/mp4' }), true],
    ['GET', new GetObjectCommand({ Bucket: 'vidx-videos', Key: 'videos/café.mp4' }), false],
    ['POST', new CreateMultipartUploadCommand({ Bucket: 'vidx-videos', Key: 'videos/big.mp4', ContentType: 'video/mp4' }), true],
    ['PUT', new UploadPartCommand({ Bucket: 'vidx-videos', Key: 'videos/big.mp4', UploadId: 'u/1+2=', PartNumber: 3 }), false],
    ['POST', new CompleteMultipartUploadCommand({ Bucket: 'vidx-videos', Key: 'videos/big.mp4', UploadId: 'abc' }), false],
    ['DELETE', new AbortMultipartUploadCommand({ Bucket: 'vidx-videos', Key: 'videos/big.mp4', UploadId: 'abc' }), false],
  ] as const)('%s %s signed by the SDK verifies', async (method, command, contentType) => {
    const p = await presigned(command, { contentType });
    const headers = { host: p.host, ...(contentType ? { 'content-type': 'video/mp4' } : {}) };
    expect(verifyPresignedRequest({ method, url: p.target, headers }, credentials, at(60))).toEqual({ ok: true });
    // Another method on the same URL is another request.
    expect(verifyPresignedRequest({ method: method === 'GET' ? 'PUT' : 'GET', url: p.target, headers }, credentials, at(60))).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  it('refuses what S3 refuses, with its codes', async () => {
    const p = await presigned(new PutObjectCommand({ Bucket: 'vidx-videos', Key: 'videos/a.mp4', ContentType: 'video/mp4' }), { contentType: true });
    const ok = { host: p.host, 'content-type': 'video/mp4' };
    const v = (url: string, headers: Record<string, string> = ok, now = at(60), creds = credentials) => verifyPresignedRequest({ method: 'PUT', url, headers }, creds, now);
    expect(v('/_local/s3/vidx-videos/videos/a.mp4')).toMatchObject({ ok: false, status: 403, code: 'AccessDenied' });
    expect(v(p.target, ok, at(60), { ...credentials, secretAccessKey: 'local' })).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(v(p.target, ok, at(60), { ...credentials, accessKeyId: 'other' })).toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
    expect(v(p.target.replace('a.mp4', 'b.mp4'))).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(v(p.target.replace('X-Amz-Expires=900', 'X-Amz-Expires=901'))).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(v(`${p.target}&extra=1`)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(v(p.target, { ...ok, 'content-type': 'text/html' })).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(v(p.target, { ...ok, host: 'localhost:8787' })).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(v(p.target, ok, at(901))).toMatchObject({ status: 403, code: 'AccessDenied', message: 'Request has expired' });
    expect(v(p.target, ok, at(-3600))).toMatchObject({ status: 403, code: 'AccessDenied', message: 'Request is not valid yet' });
    expect(v(p.target.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1'))).toMatchObject({ status: 400, code: 'AuthorizationQueryParametersError' });
    expect(v(p.target.replace('X-Amz-Expires=900', 'X-Amz-Expires=604801'))).toMatchObject({ status: 400, code: 'AuthorizationQueryParametersError' });
    expect(v(`${p.target}&bad=%FF`)).toMatchObject({ status: 400, code: 'AuthorizationQueryParametersError' });
  });

  it('writes S3\'s XML error document, escaped', () => {
    expect(s3ErrorXml('AccessDenied', 'Access <Denied>', '/b/k&1')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access &#60;Denied&#62;</Message><Resource>/b/k&#38;1</Resource></Error>');
  });
});
