/** Realistic API Gateway HTTP API (payload v2) events, as the $default stage delivers them. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export function apigwEvent(method: string, pathAndQuery: string, options: { stage?: string } = {}): APIGatewayProxyEventV2 {
  const [rawPath = '/', rawQueryString = ''] = pathAndQuery.split(/\?(.*)/s);
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) params[k] = params[k] === undefined ? v : `${params[k]},${v}`;
  const stage = options.stage ?? '$default';
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: { accept: 'application/json', host: 'abc123.execute-api.us-east-1.amazonaws.com', 'user-agent': 'vitest' },
    ...(rawQueryString ? { queryStringParameters: params } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'vitest' },
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      routeKey: '$default',
      stage,
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
}
