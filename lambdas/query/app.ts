/**
 * The query Lambda's adapter from API Gateway HTTP API (payload v2) events to core/query/api.ts:
 * validates the event with the powertools schema, strips a stage prefix, logs one line per
 * request and returns the proxy result. Dependencies are passed in (handler.ts builds them).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { QueryApi, invalidRequest, type ApiResponse, type QueryIndex } from '../../core/query/api.ts';
import type { MediaSigner } from '../../core/query/media.ts';

export interface QueryHandlerOptions {
  index: QueryIndex;
  vocabulary: readonly string[];
  cursorSecret: Buffer;
  media?: MediaSigner | undefined;
  videoPrefix?: string;
  logger?: Logger;
}

// The powertools schema knows seven methods; anything else (TRACE, PROPFIND...) is still a request,
// which the API answers 405, not a malformed event.
const RequestContext = APIGatewayProxyEventV2Schema.shape.requestContext;
const EventSchema = APIGatewayProxyEventV2Schema.extend({
  requestContext: RequestContext.extend({ http: RequestContext.shape.http.extend({ method: z.string().min(1).max(64) }) }),
});

/** The query string as sent: the schema's record drops an own `__proto__` key, which must be refused. */
function rawQuery(event: unknown): Record<string, string> | undefined {
  const q = (event as { queryStringParameters?: unknown }).queryStringParameters;
  return q !== null && typeof q === 'object' ? (q as Record<string, string>) : undefined;
}

export type QueryHandler = (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

export function createQueryHandler(options: QueryHandlerOptions): QueryHandler {
  const logger = options.logger ?? new Logger({ serviceName: 'vidx-query' });
  const api = new QueryApi({
    index: options.index,
    vocabulary: options.vocabulary,
    cursorSecret: options.cursorSecret,
    media: options.media,
    ...(options.videoPrefix ? { videoPrefix: options.videoPrefix } : {}),
  });
  return async (event: unknown) => {
    const started = performance.now();
    const parsed = EventSchema.safeParse(event);
    let res: ApiResponse;
    let method = '?';
    let path = '?';
    if (!parsed.success) {
      res = invalidRequest('the request is not an API Gateway HTTP API (v2) event');
    } else {
      const e = parsed.data;
      method = e.requestContext.http.method.toUpperCase();
      path = stripStage(e.rawPath, e.requestContext.stage);
      res = validEscapes(e.rawPath) && validEscapes(e.rawQueryString ?? '')
        ? await api.handle({ method, path, query: rawQuery(event) })
        : invalidRequest('the path or the query string has a percent escape that is not UTF-8 (e.g. %FF): encode text as UTF-8 before percent-encoding it');
    }
    const log = { method, path, route: res.route, status: res.status, ms: Math.round(performance.now() - started) };
    if (res.status >= 500) logger.error('request failed', { ...log, error: res.error instanceof Error ? res.error : String(res.error) });
    else logger.info('request', log);
    return { statusCode: res.status, headers: res.headers, body: res.text ?? JSON.stringify(res.body) };
  };
}

/** Whether every percent escape of a raw path or query string decodes as UTF-8 (decoders would otherwise put U+FFFD in its place). */
function validEscapes(raw: string): boolean {
  if (!raw.includes('%')) return true;
  try {
    for (const part of raw.split(/[&=/]/)) decodeURIComponent(part);
    return true;
  } catch (_e) {
    return false;
  }
}

/** A named stage (not `$default`) prefixes the raw path with `/<stage>`. */
function stripStage(rawPath: string, stage: string): string {
  if (stage === '$default' || stage === '') return rawPath;
  const prefix = `/${stage}`;
  if (rawPath === prefix) return '/';
  return rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : rawPath;
}

