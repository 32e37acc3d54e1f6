/**
 * The webhook sink: POST the event's JSON to a URL with its id and an HMAC-SHA256 signature
 * (signing.ts). A 2xx answer is delivery; anything else (or no answer in 10 s) is a failure that
 * deliverEvent retries. Plain HTTP, no AWS: the same sink runs in Lambda, ECS and `vidx local`.
 */
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing.ts';
import type { EventSink } from './deliver.ts';
import type { VideoEvent } from './video-event.ts';

export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface WebhookOptions {
  url: string;
  /** The signing secret (Secrets Manager on AWS, the data dir or --webhook-secret locally). */
  secret: string;
  timeoutMs?: number;
  now?: () => Date;
}

export function webhookSink(o: WebhookOptions): EventSink {
  const target = new URL(o.url);
  return {
    name: `webhook ${target.origin}`,
    async send(event: VideoEvent, body: string): Promise<void> {
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'vidx-webhook/1',
          [EVENT_ID_HEADER]: event.id,
          [SIGNATURE_HEADER]: signatureHeader(o.secret, body, o.now?.() ?? new Date()),
        },
        body,
        signal: AbortSignal.timeout(o.timeoutMs ?? WEBHOOK_TIMEOUT_MS),
      });
      await res.arrayBuffer().catch(() => undefined); // drain, so the connection is reused
      if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
    },
  };
}
