/**
 * Answers one question (core/query/language.ts) over the segments of one video. Pure: no I/O,
 * deterministic order (hits by start, then end, then person). The caller pages over videos.
 */
import type { Condition, Query } from './language.ts';

/** What the evaluator reads of a stored segment. */
export interface EvalSegment {
  label: string;
  start: number;
  end: number;
  score: number;
  kind: 'clip' | 'person';
  person?: number | undefined;
}

/** One answer: the span it covers, who (where one person or a crowd), and the segments behind it. */
export interface QueryMatch<S extends EvalSegment> {
  start: number;
  end: number;
  /** The one person of a `samePerson` sequence or a `person` question. */
  person?: number;
  /** The distinct people doing the action at the busiest moment of a `count` hit. */
  people?: number[];
  evidence: S[];
}

const meets = (s: EvalSegment, c: Condition) => s.label === c.action && s.score >= c.minScore;

function inWindow(q: Pick<Query, 'from' | 'to'>): (s: EvalSegment) => boolean {
  const from = q.from ?? 0;
  const to = q.to ?? Number.POSITIVE_INFINITY;
  return (s) => s.end > from && s.start < to;
}

function byTime(a: EvalSegment, b: EvalSegment): number {
  return a.start - b.start || a.end - b.end || (a.person ?? 0) - (b.person ?? 0) || a.label.localeCompare(b.label);
}

function byMatch<S extends EvalSegment>(a: QueryMatch<S>, b: QueryMatch<S>): number {
  return a.start - b.start || a.end - b.end || (a.person ?? 0) - (b.person ?? 0);
}

export function evaluate<S extends EvalSegment>(q: Query, all: readonly S[]): QueryMatch<S>[] {
  const segments = all.filter(inWindow(q)).sort(byTime);
  switch (q.find) {
    case 'sequence':
      return sequence(segments, q.steps, q.within, q.samePerson);
    case 'together':
      return together(segments, q.actions, q.minSeconds);
    case 'count':
      return crowd(segments, q.action, q.atLeast, q.minSeconds);
    case 'person':
      return segments
        .filter((s) => s.kind === 'person' && s.person === q.person && (q.actions === undefined || q.actions.some((c) => meets(s, c))))
        .map((s) => ({ start: s.start, end: s.end, person: q.person, evidence: [s] }));
  }
}

/**
 * Each segment of the first step starts a chain; each next step takes the earliest segment that
 * starts no earlier than the previous one and at most `within` s after its end (same person when
 * asked). One hit per complete chain; chains with the same evidence are one hit.
 */
function sequence<S extends EvalSegment>(segments: readonly S[], steps: readonly Condition[], within: number, samePerson: boolean): QueryMatch<S>[] {
  const candidates = steps.map((c) => segments.filter((s) => meets(s, c) && (!samePerson || s.kind === 'person')));
  const seen = new Set<string>();
  const out: QueryMatch<S>[] = [];
  for (const first of candidates[0]!) {
    const chain: S[] = [first];
    for (let i = 1; i < steps.length; i++) {
      const prev = chain[i - 1]!;
      const next = candidates[i]!.find((s) => s !== prev && s.start >= prev.start && s.start <= prev.end + within && (!samePerson || s.person === first.person) && !chain.includes(s));
      if (!next) break;
      chain.push(next);
    }
    if (chain.length < steps.length) continue;
    const id = chain.map((s) => segments.indexOf(s)).join(',');
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({
      start: first.start,
      end: Math.max(...chain.map((s) => s.end)),
      ...(samePerson && first.person !== undefined ? { person: first.person } : {}),
      evidence: chain,
    });
  }
  return out.sort(byMatch);
}

interface Span {
  start: number;
  end: number;
}

/** The union of the segments' spans, as disjoint sorted spans. */
function union(segments: readonly EvalSegment[]): Span[] {
  const spans = segments.map((s) => ({ start: s.start, end: s.end })).sort((a, b) => a.start - b.start);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

function intersect(a: readonly Span[], b: readonly Span[]): Span[] {
  const out: Span[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i]!.start, b[j]!.start);
    const end = Math.min(a[i]!.end, b[j]!.end);
    if (start < end) out.push({ start, end });
    if (a[i]!.end < b[j]!.end) i++;
    else j++;
  }
  return out;
}

const overlaps = (s: EvalSegment, span: Span) => s.start < span.end && s.end > span.start;

/** Spans where every action is going on at once; evidence = the segments of those actions overlapping it. */
function together<S extends EvalSegment>(segments: readonly S[], actions: readonly Condition[], minSeconds: number): QueryMatch<S>[] {
  const per = actions.map((c) => segments.filter((s) => meets(s, c)));
  let spans = union(per[0]!);
  for (const p of per.slice(1)) spans = intersect(spans, union(p));
  return spans
    .filter((span) => span.end - span.start >= minSeconds)
    .map((span) => ({ ...span, evidence: segments.filter((s) => overlaps(s, span) && actions.some((c) => meets(s, c))) }));
}

/**
 * Spans where at least `atLeast` distinct people do the action at once (a sweep over the start and
 * end times of their person segments); adjacent qualifying spans join.
 */
function crowd<S extends EvalSegment>(segments: readonly S[], action: Condition, atLeast: number, minSeconds: number): QueryMatch<S>[] {
  const doing = segments.filter((s) => s.kind === 'person' && s.person !== undefined && meets(s, action));
  const times = [...new Set(doing.flatMap((s) => [s.start, s.end]))].sort((a, b) => a - b);
  const spans: Span[] = [];
  for (let i = 0; i + 1 < times.length; i++) {
    const span = { start: times[i]!, end: times[i + 1]! };
    const people = new Set(doing.filter((s) => s.start <= span.start && s.end >= span.end).map((s) => s.person));
    if (people.size < atLeast) continue;
    const last = spans[spans.length - 1];
    if (last && last.end === span.start) last.end = span.end;
    else spans.push(span);
  }
  return spans
    .filter((span) => span.end - span.start >= minSeconds)
    .map((span) => {
      const evidence = doing.filter((s) => overlaps(s, span));
      return { ...span, people: peakPeople(evidence, span), evidence };
    });
}

/** The people at the busiest moment of a span (ids ascending). */
function peakPeople(evidence: readonly EvalSegment[], span: Span): number[] {
  let best: number[] = [];
  const moments = [...new Set(evidence.flatMap((s) => [s.start, s.end]))].filter((t) => t >= span.start && t < span.end).sort((a, b) => a - b);
  for (const t of moments.length > 0 ? moments : [span.start]) {
    const at = [...new Set(evidence.filter((s) => s.start <= t && s.end > t).map((s) => s.person!))].sort((a, b) => a - b);
    if (at.length > best.length) best = at;
  }
  return best;
}
