/**
 * POST /_local/s3-event: `vidx upload` delivers the S3 notification here, as S3 invokes the
 * segmenter Lambda. A body that is not an S3 event, or a key S3 could not have encoded, is the
 * sender's fault (400, the code's status in core/errors.ts); anything else the segmenter throws is
 * a failure behind the route (502 SEGMENTER_FAILED, with its code when it has one).
 */
import { httpStatusOf, isVidxError } from '../../core/errors.ts';
import type { S3EventHandler } from '../../lambdas/segmenter/handler.ts';
import type { LocalRoute } from './http-adapter.ts';

export const S3_EVENT_PATH = '/_local/s3-event';

export function s3EventRoute(segmenter: S3EventHandler): LocalRoute {
  return async (req, body) => {
    if (req.method !== 'POST' || req.url !== S3_EVENT_PATH) return undefined;
    let event: unknown;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch (_e) {
      return { status: 400, body: { status: 400, code: 'BAD_EVENT', message: 'the body is not JSON' } };
    }
    try {
      return { status: 200, body: await segmenter(event) };
    } catch (e) {
      const known = isVidxError(e) ? httpStatusOf(e.code) : 500;
      // The sender's fault keeps its 4xx; a full disk is 507 (Insufficient Storage); the rest is 502.
      const status = (known >= 400 && known < 500) || known === 507 ? known : 502;
      const code = isVidxError(e) ? e.code : 'SEGMENTER_FAILED';
      return { status, body: { status, code, message: e instanceof Error ? e.message : String(e) } };
    }
  };
}
