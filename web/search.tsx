/// <reference lib="dom" />
/** The search box (suggestions from /actions as one types) and the result cards (more on scroll). */
import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_QUERY_LENGTH } from '../core/query/limits.ts';
import type { SearchResponse, SegmentView, VideoView } from '../core/query/responses.ts';
import { personColour } from '../core/detection/colours.ts';
import { isUnreachable, type Api } from './api.ts';
import { range, score, videoName } from './format.ts';

export interface Moment {
  videoId: string;
  key: string;
  label: string;
  start: number;
  end: number;
  /** The person (track id) of a per-person result. */
  person?: number | undefined;
}

/** What the result list is narrowed to: score and video by the API, kind and upload date here. */
export interface Filters {
  minScore: number;
  kind: 'any' | 'clip' | 'person';
  videoId: string;
  /** Uploaded within this many days (0 = any time). */
  days: number;
}

export const NO_FILTERS: Filters = { minScore: 0, kind: 'any', videoId: '', days: 0 };

/** Whether a result passes the filters the API does not apply (kind, upload date). */
export function passes(s: Pick<SegmentView, 'kind' | 'videoId'>, f: Filters, uploadedAt: ReadonlyMap<string, number>, now = Date.now()): boolean {
  if (f.kind !== 'any' && s.kind !== f.kind) return false;
  if (f.days > 0) {
    const at = uploadedAt.get(s.videoId);
    if (at === undefined || now - at > f.days * 86_400_000) return false;
  }
  return true;
}

/** A result's title: the action, and for a per-person result whose it is. */
export function resultTitle(s: Pick<SegmentView, 'kind' | 'person' | 'label'>): string {
  return s.kind === 'person' && s.person !== undefined ? `person ${s.person} · ${s.label}` : s.label;
}

export function SearchBox(props: { api: Api; onSearch(q: string): void }) {
  const [text, setText] = useState('');
  const [suggestions, setSuggestions] = useState<string[]>([]);
  const timer = useRef<number | undefined>(undefined);

  useEffect(() => {
    window.clearTimeout(timer.current);
    const q = text.trim();
    if (!/[\p{L}\p{N}]/u.test(q)) {
      setSuggestions([]);
      return;
    }
    timer.current = window.setTimeout(() => {
      props.api.actions(q).then(
        (r) => setSuggestions(r.actions.map((a) => a.label)),
        () => setSuggestions([]),
      );
    }, 150);
  }, [text]);

  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSearch(text);
      }}
    >
      <label for="q">Search actions</label>
      <div class="row">
        <input
          id="q"
          type="search"
          list="action-suggestions"
          autocomplete="off"
          maxLength={MAX_QUERY_LENGTH}
          placeholder="e.g. cricket, dribbling, playing guitar"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </div>
      <datalist id="action-suggestions">
        {suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
    </form>
  );
}

function FilterBar(props: { filters: Filters; videos: readonly VideoView[]; onChange(f: Filters): void }) {
  const f = props.filters;
  const set = (patch: Partial<Filters>) => props.onChange({ ...f, ...patch });
  return (
    <fieldset class="filters">
      <legend>Filter results</legend>
      <div class="filter">
        <label for="f-score">
          Score at least <output for="f-score">{f.minScore.toFixed(2)}</output>
        </label>
        <input id="f-score" type="range" min={0} max={1} step={0.05} value={f.minScore} onChange={(e) => set({ minScore: Number(e.currentTarget.value) })} />
      </div>
      <div class="filter">
        <label for="f-kind">Kind</label>
        <select id="f-kind" value={f.kind} onChange={(e) => set({ kind: e.currentTarget.value as Filters['kind'] })}>
          <option value="any">any</option>
          <option value="clip">whole frame</option>
          <option value="person">per person</option>
        </select>
      </div>
      <div class="filter">
        <label for="f-video">Video</label>
        <select id="f-video" value={f.videoId} onChange={(e) => set({ videoId: e.currentTarget.value })}>
          <option value="">all videos</option>
          {props.videos.map((v) => (
            <option key={v.videoId} value={v.videoId}>
              {videoName(v.key)}
            </option>
          ))}
        </select>
      </div>
      <div class="filter">
        <label for="f-days">Uploaded</label>
        <select id="f-days" value={String(f.days)} onChange={(e) => set({ days: Number(e.currentTarget.value) })}>
          <option value="0">any time</option>
          <option value="1">last 24 hours</option>
          <option value="7">last 7 days</option>
          <option value="30">last 30 days</option>
        </select>
      </div>
    </fieldset>
  );
}

export function Results(props: { api: Api; query: string | undefined; videos: readonly VideoView[]; onOpen(m: Moment): void }) {
  const [items, setItems] = useState<SegmentView[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<'idle' | 'loading' | 'done' | 'error'>('idle');
  const [message, setMessage] = useState('');
  const [labels, setLabels] = useState<string[]>([]);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const sentinel = useRef<HTMLDivElement>(null);
  const generation = useRef(0);
  const uploadedAt = new Map(props.videos.map((v) => [v.videoId, v.createdAt ? Date.parse(v.createdAt) : NaN] as const).filter(([, t]) => Number.isFinite(t)));

  const load = (q: string, cursor: string | undefined) => {
    const gen = generation.current;
    setState('loading');
    props.api.search(q, cursor, { minScore: filters.minScore, videoId: filters.videoId || undefined }).then(
      (r: SearchResponse) => {
        if (gen !== generation.current) return;
        setItems((old) => (cursor ? [...old, ...r.items] : r.items));
        setLabels(r.query.labels.map((l) => l.label));
        setNext(r.nextCursor);
        setState('done');
      },
      (e: Error) => {
        if (gen !== generation.current) return;
        // No answer at all is said once, for the whole page (main.tsx).
        setMessage(isUnreachable(e) ? 'The search could not reach the server.' : e.message);
        setState('error');
      },
    );
  };

  useEffect(() => {
    generation.current++;
    setItems([]);
    setNext(null);
    setLabels([]);
    if (props.query === undefined) return setState('idle');
    if (props.query.trim() === '') {
      setMessage('Type an action to search for, for example “cricket”.');
      return setState('error');
    }
    load(props.query, undefined);
  }, [props.query, filters.minScore, filters.videoId]);

  // More on scroll: when the sentinel below the cards comes into view, fetch the next page.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !next || state !== 'done' || props.query === undefined) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) load(props.query!, next);
    });
    io.observe(el);
    return () => io.disconnect();
  }, [next, state]);

  if (props.query === undefined) return null;
  const shown = items.filter((s) => passes(s, filters, uploadedAt));
  const hidden = items.length - shown.length;
  return (
    <section class="results" aria-labelledby="results-title" aria-busy={state === 'loading'}>
      <h2 id="results-title">Results</h2>
      <FilterBar filters={filters} videos={props.videos} onChange={setFilters} />
      <p class="status" role="status" data-testid="results-status">
        {state === 'error'
          ? message
          : state === 'loading' && items.length === 0
            ? 'Searching…'
            : state === 'done' && items.length === 0
              ? labels.length === 0
                ? 'No action of the model matches this text.'
                : `No moments found for ${labels.join(', ')}${filters.minScore > 0 || filters.videoId ? ' with these filters' : ''}.`
              : items.length > 0
                ? `${shown.length}${next ? '+' : ''} moment${shown.length === 1 ? '' : 's'} for ${labels.join(', ')}, best first${hidden > 0 ? ` (${hidden} hidden by the filters)` : ''}.`
                : ''}
      </p>
      <ul class="cards">
        {shown.map((s) => (
          <li key={`${s.videoId}/${s.label}/${s.start}/${s.person ?? ''}`}>
            <button type="button" class="card" data-kind={s.kind} data-person={s.person} data-score={s.score} data-video={s.videoId} onClick={() => props.onOpen(s)}>
              {s.thumbnail ? <img src={s.thumbnail} alt="" loading="lazy" width={160} height={90} /> : <span class="nothumb" aria-hidden="true">no thumbnail</span>}
              <span class="label">
                <span class="sr-only">Play </span>
                {s.kind === 'person' && s.person !== undefined && (
                  <span class="who" style={{ borderColor: personColour(s.person) }}>
                    person {s.person}
                  </span>
                )}
                {s.kind === 'person' && s.person !== undefined ? ' · ' : ''}
                {s.label}
              </span>
              <span class="video">{videoName(s.key)}</span>
              <span class="meta">
                {range(s.start, s.end)} · score {score(s.score)}
              </span>
            </button>
          </li>
        ))}
      </ul>
      <div ref={sentinel} class="sentinel" />
      {next && state === 'done' && (
        <button type="button" class="more" onClick={() => load(props.query!, next)}>
          More results
        </button>
      )}
    </section>
  );
}
