/// <reference lib="dom" />
/**
 * One video: the player (starting at the chosen moment, the segment marked on a track under it)
 * and the video's timeline (one lane per action, and per person where detections exist).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TimelineResponse } from '../core/query/responses.ts';
import { EXPORT_FORMATS, type ExportFormat } from '../core/export/formats.ts';
import { personColour } from '../core/detection/colours.ts';
import { isUnreachable, type Api } from './api.ts';
import { playable, range, score, seconds, shade, statusText, videoName } from './format.ts';
import { momentQuery, type MomentLink } from './links.ts';
import { resultTitle, type Moment } from './search.tsx';
import { GifPlayer, gifPlayable, type GifSeek } from './gif-player.tsx';
import { boxesAt, containRect, keyframeInterval, PersonBoxes, type ContentRect } from './person-boxes.tsx';

export interface Opened {
  videoId: string;
  /** The moment to play from and mark; absent = from `at`, or the start. */
  moment?: Pick<Moment, 'label' | 'start' | 'end'>;
  /** Where to start without a segment to mark (a link to a moment). */
  at?: number;
  /** The person to pick out: their box drawn thicker, their lanes marked. */
  person?: number;
}

const EXPORT_NAMES: Readonly<Record<ExportFormat, string>> = { vtt: 'WebVTT', csv: 'CSV', edl: 'EDL', json: 'JSON' };

export function Player(props: { api: Api; opened: Opened; onClose(): void; onMoved(link: MomentLink): void }) {
  const { videoId, moment, person } = props.opened;
  const startAt = moment?.start ?? props.opened.at ?? 0;
  const [copied, setCopied] = useState('');
  const [exportError, setExportError] = useState('');
  const [url, setUrl] = useState<string>();
  const [timeline, setTimeline] = useState<TimelineResponse>();
  const [error, setError] = useState('');
  const [now, setNow] = useState(startAt);
  const [mark, setMark] = useState(moment);
  const video = useRef<HTMLVideoElement>(null);
  const [gifSeek, setGifSeek] = useState<GifSeek>({ at: startAt, n: 0 });
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
    setNow(startAt);
    setCopied('');
    setExportError('');
    setGifSeek((g) => ({ at: startAt, n: g.n + 1 }));
    heading.current?.focus();
    const failed = (e: Error) => setError(isUnreachable(e) ? 'The video could not be loaded: no answer from the server.' : e.message);
    props.api.media(videoId).then((m) => setUrl(m.url), failed);
    props.api.timeline(videoId).then(setTimeline, failed);
  }, [videoId, startAt, moment?.label, person]);

  const link = (): MomentLink => ({ video: videoId, t: now, ...(person !== undefined ? { person } : {}) });
  const copyLink = async () => {
    const l = link();
    props.onMoved(l);
    const url = `${location.origin}${location.pathname}${momentQuery(l)}`;
    try {
      await navigator.clipboard.writeText(url);
      setCopied(`Link copied: ${url}`);
    } catch (_e) {
      setCopied(`Copy this link: ${url}`); // no clipboard access (an insecure origin, a refusal)
    }
  };
  const download = async (format: ExportFormat) => {
    setExportError('');
    try {
      const blob = await props.api.export(videoId, format);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `${(key ? videoName(key) : videoId).replace(/\.[^.]+$/, '')}.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    } catch (e) {
      setExportError(`The ${EXPORT_NAMES[format]} export failed: ${(e as Error).message}`);
    }
  };

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
              seek(startAt, moment !== undefined || props.opened.at !== undefined);
            }}
            onTimeUpdate={(e) => setNow(e.currentTarget.currentTime)}
          />
          {rect && timeline && <PersonBoxes boxes={boxesAt(timeline.segments, now, keyframeInterval(timeline.segments))} rect={rect} picked={person} />}
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
          {resultTitle({ kind: person !== undefined ? 'person' : 'clip', person, label: mark.label })}: {range(mark.start, mark.end)}
        </p>
      )}
      <div class="tools">
        <button type="button" onClick={() => void copyLink()}>
          Copy link to {seconds(now)}
        </button>
        <span class="exports" role="group" aria-label="Export the timeline">
          <span aria-hidden="true">Export:</span>
          {(['vtt', 'csv', 'edl', 'json'] as const).filter((f) => EXPORT_FORMATS.includes(f)).map((f) => (
            <button key={f} type="button" data-format={f} aria-label={`Export ${EXPORT_NAMES[f]}`} onClick={() => void download(f)}>
              {EXPORT_NAMES[f]}
            </button>
          ))}
        </span>
      </div>
      {copied && (
        <p class="status copied" role="status">
          {copied}
        </p>
      )}
      {exportError && (
        <p class="error" role="alert">
          {exportError}
        </p>
      )}
      {timeline && (
        <Timeline
          timeline={timeline}
          duration={duration}
          picked={person}
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

/** The timeline's lanes: one per action over the whole frame, and one group per person (a lane per action of theirs). */
export function laneGroups(segments: readonly Seg[]): { clip: Map<string, Seg[]>; people: Map<number, Map<string, Seg[]>> } {
  const clip = new Map<string, Seg[]>();
  const people = new Map<number, Map<string, Seg[]>>();
  for (const s of segments) {
    if (s.kind === 'person' && s.person !== undefined) {
      const lanes = people.get(s.person) ?? new Map<string, Seg[]>();
      lanes.set(s.label, [...(lanes.get(s.label) ?? []), s]);
      people.set(s.person, lanes);
    } else {
      clip.set(s.label, [...(clip.get(s.label) ?? []), s]);
    }
  }
  return { clip, people: new Map([...people].sort((a, b) => a[0] - b[0])) };
}

function Lanes(props: { lanes: Map<string, Seg[]>; end: number; group: string; who?: number; onPick(s: Seg): void }) {
  const [hover, setHover] = useState<{ text: string; left: string; lane: string }>();
  return (
    <ul class="lanes">
      {[...props.lanes].map(([lane, segs]) => (
        <li key={lane} class="lane" data-group={props.group}>
          <span class="lane-name">{lane}</span>
          <span class="lane-bars">
            {segs.map((s) => {
              const text = `${props.who !== undefined ? `person ${props.who}, ` : ''}${s.label}, ${range(s.start, s.end)}, score ${score(s.score)}`;
              return (
                <button
                  key={`${s.start}`}
                  type="button"
                  class="bar"
                  data-start={s.start}
                  aria-label={`Play ${text}`}
                  title={text}
                  style={{ left: pct(s.start, props.end), width: pct(Math.max(s.end - s.start, props.end / 400), props.end), background: shade(s.score) }}
                  onMouseEnter={() => setHover({ text, left: pct(s.start, props.end), lane })}
                  onFocus={() => setHover({ text, left: pct(s.start, props.end), lane })}
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
  );
}

export function Timeline(props: { timeline: TimelineResponse; duration: number; picked?: number | undefined; onPick(s: Seg): void }) {
  const { timeline, duration } = props;
  const { clip, people } = laneGroups(timeline.segments);
  const end = duration > 0 ? duration : Math.max(1, ...timeline.segments.map((s) => s.end));
  const pickedGroup = useRef<HTMLLIElement>(null);
  useEffect(() => pickedGroup.current?.scrollIntoView?.({ block: 'nearest' }), [props.picked, timeline]);
  return (
    <div class="timeline" aria-labelledby="timeline-title">
      <h3 id="timeline-title">Timeline</h3>
      <p class="status" role="status">
        {statusText(timeline.video)}
        {timeline.message ? ` — ${timeline.message}` : ''}
        {timeline.truncated ? ' (only the first segments are shown)' : ''}
      </p>
      {timeline.segments.length === 0 && <p>No segments.</p>}
      {clip.size > 0 && (
        <>
          {people.size > 0 && <h4 class="group-head">Whole frame</h4>}
          <Lanes lanes={clip} end={end} group="clip" onPick={props.onPick} />
        </>
      )}
      {people.size > 0 && (
        <ul class="people" aria-label="People">
          {[...people].map(([who, lanes]) => (
            <li key={who} class={`person-group${props.picked === who ? ' picked' : ''}`} data-person={who} ref={props.picked === who ? pickedGroup : undefined}>
              <h4 class="group-head">
                <span class="swatch" style={{ background: personColour(who) }} aria-hidden="true" />
                person {who}
                <span class="count">
                  {' '}
                  · {lanes.size} action{lanes.size === 1 ? '' : 's'}
                </span>
              </h4>
              <Lanes lanes={lanes} end={end} group={`person-${who}`} who={who} onPick={props.onPick} />
            </li>
          ))}
        </ul>
      )}
      <p class="axis" aria-hidden="true">
        <span>0</span>
        <span>{seconds(end)}</span>
      </p>
    </div>
  );
}
