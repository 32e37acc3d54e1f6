/**
 * `vidx local`'s done/failed events, off every request path. Whoever learns of a video that may
 * turn final (the segmenter's outcome, a re-index, the recovery at start, the sweeper) asks the
 * outbox to watch it and goes on; the outbox looks at watched videos on its own timer and
 * delivers the event of each final one (core/pipeline/notify.ts: at least once, the record keeps
 * the id of the event delivered), with a time limit per attempt and at most `concurrency`
 * deliveries at once. A delivery that fails is tried again later (after `retryMs`) while the stack
 * runs, and at the next start (the recovery watches every final video not yet notified). So a sink
 * that never answers holds up no upload, no API request and no start: the answer to an upload is
 * its own result, whatever the sinks do.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeliveryOptions, EventSink } from '../../core/events/deliver.ts';
import { isFinal } from '../../core/events/video-event.ts';
import { notifyIfFinal, type NotifyDeps } from '../../core/pipeline/notify.ts';
import type { VideoRecord } from '../../core/records.ts';

export interface OutboxOptions {
  store: NotifyDeps['store'] & { getVideo(videoId: string): Promise<VideoRecord | undefined> };
  sinks: readonly EventSink[];
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  delivery?: DeliveryOptions | undefined;
  /** Deliveries (and index reads) at once (default 4). */
  concurrency?: number;
  /** How often watched videos are looked at (default 1 s). */
  pollMs?: number;
  /** How long a video whose delivery failed waits before the next try (default 30 s). */
  retryMs?: number;
}

export interface OutboxStatus {
  /** Videos watched until their event is delivered. */
  watching: number;
  /** Deliveries in progress. */
  delivering: number;
  /** Watched videos whose last delivery failed (tried again later). */
  failing: number;
}

/** Each attempt's time limit when none is given: a sink that never answers is cut off. */
export const LOCAL_ATTEMPT_TIMEOUT_MS = 10_000;

export class EventOutbox {
  private readonly watched = new Map<string, { notBefore: number; failed: boolean }>();
  private readonly inFlight = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly concurrency: number;
  private readonly deps: NotifyDeps;

  constructor(private readonly o: OutboxOptions) {
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.deps = { store: o.store, sinks: o.sinks, log: o.log, delivery: { attemptTimeoutMs: LOCAL_ATTEMPT_TIMEOUT_MS, ...o.delivery } };
  }

  /** Whether any sink is configured (without one, watching is a no-op). */
  get active(): boolean {
    return this.o.sinks.length > 0;
  }

  /** Delivers the video's event once it is final (returns at once). */
  watch(videoId: string): void {
    if (!this.active || this.stopped) return;
    if (!this.watched.has(videoId)) this.watched.set(videoId, { notBefore: 0, failed: false });
    this.schedule(0);
  }

  status(): OutboxStatus {
    return { watching: this.watched.size, delivering: this.inFlight.size, failing: [...this.watched.values()].filter((w) => w.failed).length };
  }

  /**
   * Stops watching. Deliveries in progress get up to `waitMs` to finish; one cut off is delivered
   * at the next start (its video is final and not notified).
   */
  async stop(waitMs = 2000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const all = Promise.allSettled([...this.running]);
    let t: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((res) => (t = setTimeout(res, waitMs)))]);
    clearTimeout(t);
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.tick();
    }, ms);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    for (const [videoId, w] of this.watched) {
      if (this.inFlight.size >= this.concurrency) break;
      if (this.inFlight.has(videoId) || w.notBefore > now) continue;
      this.look(videoId);
    }
    if (this.watched.size > 0) this.schedule(this.o.pollMs ?? 1000);
  }

  private look(videoId: string): void {
    this.inFlight.add(videoId);
    const run = (async () => {
      const video = await this.o.store.getVideo(videoId);
      if (!video) {
        this.watched.delete(videoId);
        return;
      }
      if (!isFinal(video.status)) return; // still in progress: looked at again on the next tick
      await notifyIfFinal(this.deps, video);
      this.watched.delete(videoId);
    })()
      .catch((e: unknown) => {
        const w = this.watched.get(videoId);
        if (w) Object.assign(w, { failed: true, notBefore: Date.now() + (this.o.retryMs ?? 30_000) });
        this.o.log.warn('event not delivered: tried again later', { videoId, error: e instanceof Error ? e.message : String(e) });
      })
      .finally(() => {
        this.inFlight.delete(videoId);
        this.running.delete(run);
      });
    this.running.add(run);
  }
}
