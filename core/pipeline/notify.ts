/**
 * The done/failed event of a revision, sent once it is final (issue 11). At least once: the
 * record remembers the id of the event delivered (`notifiedEvent`) only after every sink took it,
 * so a crash or a failed sink leaves it unset and whoever sees the final revision next (the
 * redelivered clip message, a duplicate S3 event) sends it again, with the same id.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { VideoRecord, SegmentRecord } from '../records.ts';
import { deliverEvent, type DeliveryOptions, type EventSink } from '../events/deliver.ts';
import { buildVideoEvent, eventStatusOf, videoEventId, type VideoEvent } from '../events/video-event.ts';

export interface NotifyDeps {
  store: {
    timelineOf(videoId: string): Promise<SegmentRecord[]>;
    markNotified(videoId: string, etag: string, eventId: string): Promise<boolean>;
  };
  sinks: readonly EventSink[];
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  delivery?: DeliveryOptions;
}

/** Sends the revision's event unless it is not final, has no sink, or was sent already. */
export async function notifyIfFinal(deps: NotifyDeps, video: VideoRecord): Promise<VideoEvent | undefined> {
  const status = eventStatusOf(video.status);
  if (deps.sinks.length === 0 || !status) return undefined;
  const id = videoEventId(video.videoId, video.etag, status);
  if (video.notifiedEvent === id) return undefined;
  const segments = status === 'indexed' ? (await deps.store.timelineOf(video.videoId)).filter((s) => s.etag === video.etag) : [];
  const event = buildVideoEvent(video, segments);
  await deliverEvent(deps.sinks, event, deps.delivery);
  await deps.store.markNotified(video.videoId, video.etag, id);
  deps.log.info('event delivered', { videoId: video.videoId, eventId: id, type: event.type, sinks: deps.sinks.map((s) => s.name) });
  return event;
}
