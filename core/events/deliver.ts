/**
 * Delivery of one event to every sink, at least once: each sink is tried on its own with
 * exponential backoff; a sink that still fails after the attempts raises EVENT_DELIVERY_FAILED
 * (the caller keeps the revision un-notified, so the clip message is retried and delivery runs
 * again; sinks that had succeeded then see a duplicate with the same event id).
 */
import { VidxError } from '../errors.ts';
import type { VideoEvent } from './video-event.ts';

/** One destination (an adapter: SNS, EventBridge, a webhook). `body` is the event's JSON. */
export interface EventSink {
  readonly name: string;
  send(event: VideoEvent, body: string): Promise<void>;
}

export interface DeliveryOptions {
  /** Tries per sink, the first included (default 4). */
  attempts?: number;
  /** First backoff (ms), doubled each retry (default 500 ms: 0.5 + 1 + 2 s). */
  backoffMs?: number;
  /** Each attempt's time limit (ms); an attempt past it is a failure (default: the sink's own). */
  attemptTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function eventBody(event: VideoEvent): string {
  return JSON.stringify(event);
}

export async function deliverEvent(sinks: readonly EventSink[], event: VideoEvent, o: DeliveryOptions = {}): Promise<void> {
  const attempts = Math.max(1, o.attempts ?? 4);
  const backoff = o.backoffMs ?? 500;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((res) => setTimeout(res, ms)));
  const body = eventBody(event);
  const failures: { sink: string; error: unknown }[] = [];
  await Promise.all(
    sinks.map(async (sink) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await (o.attemptTimeoutMs === undefined ? sink.send(event, body) : withTimeout(sink.send(event, body), o.attemptTimeoutMs, sink.name));
          return;
        } catch (e) {
          if (attempt >= attempts) {
            failures.push({ sink: sink.name, error: e });
            return;
          }
          await sleep(backoff * 2 ** (attempt - 1));
        }
      }
    }),
  );
  if (failures.length > 0) {
    const what = failures.map((f) => `${f.sink}: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ');
    throw new VidxError('EVENT_DELIVERY_FAILED', `event ${event.id} (${event.type}) was not delivered after ${attempts} attempts (${what})`, {
      cause: failures[0]!.error,
      hint: 'the event is delivered again when its clip message is retried; check the sink',
    });
  }
}

function withTimeout(p: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_res, rej) => (timer = setTimeout(() => rej(new Error(`${what} did not answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
