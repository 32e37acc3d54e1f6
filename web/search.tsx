/// <reference lib="dom" />
/** The search box (suggestions from /actions as one types) and the result cards (more on scroll). */
import { useEffect, useRef, useState } from 'preact/hooks';
import { MAX_QUERY_LENGTH } from '../core/query/limits.ts';
import type { SearchResponse, SegmentView } from '../core/query/responses.ts';
import type { Api } from './api.ts';
import { range, score, videoName } from './format.ts';

export interface Moment {
  videoId: string;
  key: string;
  label: string;
  start: number;
  end: number;
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

export function Results(props: { api: Api; query: string | undefined; onOpen(m: Moment): void }) {
  const [items, setItems] = useState<SegmentView[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<'idle' | 'loading' | 'done' | 'error'>('idle');
  const [message, setMessage] = useState('');
  const [labels, setLabels] = useState<string[]>([]);
  const sentinel = useRef<HTMLDivElement>(null);
  const generation = useRef(0);

  const load = (q: string, cursor: string | undefined) => {
    const gen = generation.current;
    setState('loading');
    props.api.search(q, cursor).then(
      (r: SearchResponse) => {
        if (gen !== generation.current) return;
        setItems((old) => (cursor ? [...old, ...r.items] : r.items));
        setLabels(r.query.labels.map((l) => l.label));
        setNext(r.nextCursor);
        setState('done');
      },
      (e: Error) => {
        if (gen !== generation.current) return;
        setMessage(e.message);
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
  }, [props.query]);

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
  return (
    <section class="results" aria-labelledby="results-title" aria-busy={state === 'loading'}>
      <h2 id="results-title">Results</h2>
      <p class="status" role="status">
        {state === 'error'
          ? message
          : state === 'loading' && items.length === 0
            ? 'Searching…'
            : state === 'done' && items.length === 0
              ? labels.length === 0
                ? 'No action of the model matches this text.'
                : `No moments found for ${labels.join(', ')}.`
              : items.length > 0
                ? `${items.length}${next ? '+' : ''} moment${items.length === 1 ? '' : 's'} for ${labels.join(', ')}, best first.`
                : ''}
      </p>
      <ul class="cards">
        {items.map((s) => (
          <li key={`${s.videoId}/${s.label}/${s.start}`}>
            <button type="button" class="card" onClick={() => props.onOpen(s)} aria-label={`Play ${s.label} in ${videoName(s.key)} from ${range(s.start, s.end)}, score ${score(s.score)}`}>
              {s.thumbnail ? <img src={s.thumbnail} alt="" loading="lazy" width={160} height={90} /> : <span class="nothumb" aria-hidden="true">no thumbnail</span>}
              <span class="label">{s.label}</span>
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
