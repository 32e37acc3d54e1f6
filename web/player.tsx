/// <reference lib="dom" />
/**
 * One video: the player (starting at the chosen moment, the segment marked on a track under it)
 * and the video's timeline (one lane per action, and per person where detections exist).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TimelineResponse } from '../core/query/responses.ts';
import type { Api } from './api.ts';
import { playable, range, score, seconds, shade, statusText, videoName } from './format.ts';
import type { Moment } from './search.tsx';
import { GifPlayer, gifPlayable, type GifSeek } from './gif-player.tsx';
import { boxesAt, containRect, keyframeInterval, PersonBoxes, type ContentRect } from './person-boxes.tsx';

export interface Opened {
  videoId: string;
  /** The moment to play from and mark; absent = from the start. */
  moment?: Pick<Moment, 'label' | 'start' | 'end'>;
}

export function Player(props: { api: Api; opened: Opened; onClose(): void }) {
  const { videoId, moment } = props.opened;
  const [url, setUrl] = useState<string>();
  const [timeline, setTimeline] = useState<TimelineResponse>();
  const [error, setError] = useState('');
  const [now, setNow] = useState(moment?.start ?? 0);
  const [mark, setMark] = useState(moment);
  const video = useRef<HTMLVideoElement>(null);
  const [gifSeek, setGifSeek] = useState<GifSeek>({ at: moment?.start ?? 0, n: 0 });
  const heading = useRef<HTMLHeadingElement>(null);
  const [rect, setRect] = useState<ContentRect>();
  // Where the picture is drawn inside the <video> (letterboxed), so person boxes land on it.
  const measure = () => {
    const v = video.current;
    if (v) setRect(containRect({ width: v.clientWidth, height: v.clientHeight }, { width: v.videoWidth, height: v.videoHeight }));
  };
  useEffect(() => {
    window.addEventListener('resize', measure);
    return () => window.removeEventListener('resize', measure);
  }, []);

  useEffect(() => {
    setUrl(undefined);
    setTimeline(undefined);
    setError('');
    setMark(moment);
    setNow(moment?.start ?? 0);
    setGifSeek((g) => ({ at: moment?.start ?? 0, n: g.n + 1 }));
    heading.current?.focus();
    props.api.media(videoId).then((m) => setUrl(m.url), (e: Error) => setError(e.message));
    props.api.timeline(videoId).then(setTimeline, (e: Error) => setError(e.message));
  }, [videoId, moment?.start, moment?.label]);

  const key = timeline?.video.key ?? '';
  const seek = (t: number, play = true) => {
    if (!playable(key || '.mp4')) {
      setGifSeek((g) => ({ at: t, n: g.n + 1 }));
      return;
    }
    const v = video.current;
    if (!v) return;
    v.currentTime = t;
    setNow(t);
    if (play) v.play().catch(() => undefined); // autoplay may be refused; the controls remain
  };

  const duration = timeline?.video.duration ?? video.current?.duration ?? 0;
  return (
    <section class="player" aria-labelledby="player-title">
      <div class="player-head">
        <h2 id="player-title" tabIndex={-1} ref={heading}>
          {key ? videoName(key) : 'Video'}
        </h2>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {url && key && playable(key) && (
        <div class="stage">
          <video
            ref={video}
            src={url}
            controls
            preload="auto"
            aria-label={`video ${videoName(key)}`}
            data-testid="player"
            onLoadedMetadata={() => {
              measure();
              seek(moment?.start ?? 0, moment !== undefined);
            }}
            onTimeUpdate={(e) => setNow(e.currentTarget.currentTime)}
          />
          {rect && timeline && <PersonBoxes boxes={boxesAt(timeline.segments, now, keyframeInterval(timeline.segments))} rect={rect} />}
        </div>
      )}
      {url && key && !playable(key) && gifPlayable() && (
        <GifPlayer url={url} label={`animation ${videoName(key)}`} seek={gifSeek} onTime={(t) => setNow(t)} />
      )}
      {url && key && !playable(key) && !gifPlayable() && (
        <>
          <img class="gif" src={url} alt={`animation ${videoName(key)}`} />
          <p class="note">A GIF plays as an image in browsers: it cannot be started at a moment.</p>
        </>
      )}
      {duration > 0 && (
        <div class="track" aria-hidden="true">
          {mark && <div class="track-mark" data-testid="segment-mark" style={{ left: pct(mark.start, duration), width: pct(mark.end - mark.start, duration) }} />}
          <div class="track-head" style={{ left: pct(now, duration) }} />
        </div>
      )}
      {mark && (
        <p class="moment">
          {mark.label}: {range(mark.start, mark.end)}
        </p>
      )}
      {timeline && (
        <Timeline
          timeline={timeline}
          duration={duration}
          onPick={(s) => {
            setMark(s);
            seek(s.start);
          }}
        />
      )}
    </section>
  );
}

function pct(t: number, duration: number): string {
  return `${Math.max(0, Math.min(100, (100 * t) / duration)).toFixed(3)}%`;
}

type Seg = TimelineResponse['segments'][number];

/** The lane of a segment: the action, or person N + action for per-person detections. */
function laneOf(s: Seg): string {
  return s.kind === 'person' && s.person !== undefined ? `person ${s.person} · ${s.label}` : s.label;
}

export function Timeline(props: { timeline: TimelineResponse; duration: number; onPick(s: Seg): void }) {
  const { timeline, duration } = props;
  const [hover, setHover] = useState<{ text: string; left: string; lane: string }>();
  const lanes = new Map<string, Seg[]>();
  for (const s of timeline.segments) {
    const lane = laneOf(s);
    lanes.set(lane, [...(lanes.get(lane) ?? []), s]);
  }
  const end = duration > 0 ? duration : Math.max(1, ...timeline.segments.map((s) => s.end));
  return (
    <div class="timeline" aria-labelledby="timeline-title">
      <h3 id="timeline-title">Timeline</h3>
      <p class="status" role="status">
        {statusText(timeline.video)}
        {timeline.message ? ` — ${timeline.message}` : ''}
        {timeline.truncated ? ' (only the first segments are shown)' : ''}
      </p>
      {lanes.size === 0 && <p>No segments.</p>}
      <ul class="lanes">
        {[...lanes].map(([lane, segs]) => (
          <li key={lane} class="lane">
            <span class="lane-name">{lane}</span>
            <span class="lane-bars">
              {segs.map((s) => {
                const text = `${s.label}, ${range(s.start, s.end)}, score ${score(s.score)}`;
                return (
                  <button
                    key={`${s.start}`}
                    type="button"
                    class="bar"
                    data-start={s.start}
                    aria-label={`Play ${text}`}
                    title={text}
                    style={{ left: pct(s.start, end), width: pct(Math.max(s.end - s.start, end / 400), end), background: shade(s.score) }}
                    onMouseEnter={() => setHover({ text, left: pct(s.start, end), lane })}
                    onFocus={() => setHover({ text, left: pct(s.start, end), lane })}
                    onMouseLeave={() => setHover(undefined)}
                    onBlur={() => setHover(undefined)}
                    onClick={() => props.onPick(s)}
                  />
                );
              })}
              {hover?.lane === lane && (
                <span class="tip" role="tooltip" style={{ left: hover.left }}>
                  {hover.text}
                </span>
              )}
            </span>
          </li>
        ))}
      </ul>
      <p class="axis" aria-hidden="true">
        <span>0</span>
        <span>{seconds(end)}</span>
      </p>
    </div>
  );
}
