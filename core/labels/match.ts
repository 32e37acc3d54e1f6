/**
 * Typo-tolerant matching of free text against a model's label vocabulary (pure domain).
 *
 * Both sides are normalised the same way: lower case, diacritics removed, apostrophes dropped
 * ("person's" -> "persons"), every other non-alphanumeric character a separator. Query words
 * that are stop words ("or", "the", ...) are ignored unless the query has nothing else.
 *
 * Every label that matches falls into one tier; a lower tier always ranks first:
 *
 *   0 phrase   the normalised query equals the normalised label
 *   1 exact    every query word is a word of the label
 *   2 prefix   every query word is a word of the label or the start of one ("basketbal")
 *   3 fuzzy    every query word is within a small edit distance of a label word or of its
 *              start (optimal string alignment: a transposition counts one edit). Allowed
 *              edits grow with the word: 0 for <= 3 letters, 1 for 4-6, 2 for >= 7
 *              ("guitr" -> "guitar", "dribling" -> "dribbling")
 *   4 similar  trigram containment: the share of the query's letter trigrams (spaces removed)
 *              found in the label's (spaces removed) is >= 0.6. This catches split or joined
 *              words ("basket ball", "jetski ing") and several typos at once. Only for queries
 *              of 4 letters or more (shorter ones share a trigram with too much).
 *   5 partial  at least half of the query words match exactly or as a prefix, the rest do not
 *              ("cricket shot" -> "playing cricket"); score = matched share x their mean score.
 *
 * Within a tier: higher score first (the mean of the per-word scores: exact 1, prefix 0.7 +
 * 0.3 x covered share of the word, fuzzy 0.6 - 0.1 x edits; in tier 4 the containment), then
 * the label covering more of itself (fewer words the query did not ask for), then
 * alphabetical, so the order is total and stable.
 */

export const MATCH_TIERS = ['phrase', 'exact', 'prefix', 'fuzzy', 'similar', 'partial'] as const;
export type MatchTier = (typeof MATCH_TIERS)[number];

export interface LabelMatch {
  label: string;
  tier: MatchTier;
  /** In (0, 1]; comparable within one tier. */
  score: number;
}

/** Minimum trigram containment for tier 4. */
export const SIMILAR_THRESHOLD = 0.6;
/** Minimum share of matched query words for tier 5. */
export const PARTIAL_THRESHOLD = 0.5;

const STOP_WORDS = new Set(['a', 'an', 'the', 'of', 'or', 'and', 'in', 'on', 'with', 'to', 'not', 'for', 'at']);

export function normalize(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/['\u2019`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function words(text: string): string[] {
  const n = normalize(text);
  return n === '' ? [] : n.split(' ');
}

/**
 * Bounds on the matcher's work per query, whatever the caller let through: a query is matched on
 * at most MAX_MATCH_WORDS words of at most MAX_MATCH_WORD_LENGTH letters (labels are a few short
 * words, so nothing longer can match anyway). Normalisation can grow text (NFKD turns U+FDFA into
 * 18 characters), so the bounds apply to the normalised words.
 */
export const MAX_MATCH_WORDS = 8;
export const MAX_MATCH_WORD_LENGTH = 24;

/** A query normalised once: its words worth matching (bounded) and their joined forms. */
export interface PreparedQuery {
  /** Stop words and single letters dropped unless nothing else is left; bounded as above. */
  words: string[];
  /** The words joined by a space (compared with a label for a phrase match). */
  phrase: string;
  /** The words joined without spaces, and its letter trigrams (trigram containment). */
  compact: string;
  trigrams: Set<string>;
}

export function prepareQuery(text: string): PreparedQuery {
  const all = words(text);
  const kept = all.filter((w) => w.length > 1 && !STOP_WORDS.has(w));
  // A repeated word adds nothing to a match: each counts once.
  const chosen = [...new Set((kept.length > 0 ? kept : all).map((w) => w.slice(0, MAX_MATCH_WORD_LENGTH)))].slice(0, MAX_MATCH_WORDS);
  // A phrase match needs every word of the query, so a query cut short never phrase-matches.
  const cut = all.length > MAX_MATCH_WORDS || all.some((w) => w.length > MAX_MATCH_WORD_LENGTH);
  const compact = chosen.join('');
  return { words: chosen, phrase: cut ? '' : all.join(' '), compact, trigrams: trigrams(compact) };
}

/** A label's words, normalised once per vocabulary. */
interface PreparedLabel {
  label: string;
  words: string[];
  phrase: string;
  trigrams: Set<string>;
}

const preparedVocabularies = new WeakMap<readonly string[], PreparedLabel[]>();

function prepareLabel(label: string): PreparedLabel {
  const w = words(label);
  return { label, words: w, phrase: w.join(' '), trigrams: trigrams(w.join('')) };
}

function prepareVocabulary(vocabulary: readonly string[]): PreparedLabel[] {
  let prepared = preparedVocabularies.get(vocabulary);
  if (!prepared) {
    prepared = vocabulary.map(prepareLabel);
    preparedVocabularies.set(vocabulary, prepared);
  }
  return prepared;
}

/** Allowed edits for a query word of this length. */
export function allowedEdits(length: number): number {
  if (length <= 3) return 0;
  if (length <= 6) return 1;
  return 2;
}

/**
 * Optimal string alignment distance (Levenshtein + adjacent transposition), capped: returns
 * `max + 1` as soon as the distance is known to exceed `max`.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => {
    const row = new Array<number>(cols).fill(0);
    row[0] = i;
    return row;
  });
  const at = (i: number, j: number): number => d[i]![j]!;
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    let rowMin = Number.POSITIVE_INFINITY;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i]![j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
  }
  return at(a.length, b.length);
}

export function trigrams(s: string): Set<string> {
  const t = new Set<string>();
  if (s.length < 3) {
    if (s.length > 0) t.add(s);
    return t;
  }
  for (let i = 0; i + 3 <= s.length; i++) t.add(s.slice(i, i + 3));
  return t;
}

/** Share of the query's trigrams that occur in the target (0..1). */
export function trigramContainment(query: string, target: string): number {
  return containment(trigrams(query), trigrams(target));
}

function containment(q: Set<string>, t: Set<string>): number {
  if (q.size === 0) return 0;
  let hit = 0;
  for (const g of q) if (t.has(g)) hit++;
  return hit / q.size;
}

type WordMatch = { tier: 1 | 2 | 3; score: number; labelWord: number };

function matchWord(q: string, labelWords: readonly string[]): WordMatch | undefined {
  let best: WordMatch | undefined;
  const better = (m: WordMatch) => {
    if (!best || m.tier < best.tier || (m.tier === best.tier && m.score > best.score)) best = m;
  };
  const maxEdits = allowedEdits(q.length);
  labelWords.forEach((w, i) => {
    if (w === q) better({ tier: 1, score: 1, labelWord: i });
    else if (w.startsWith(q)) better({ tier: 2, score: 0.7 + (0.3 * q.length) / w.length, labelWord: i });
    else if (maxEdits > 0) {
      const whole = editDistance(q, w, maxEdits);
      // A typo in a word still being typed: compare with the label word's start of the same length.
      const start = w.length > q.length ? editDistance(q, w.slice(0, q.length), maxEdits) : maxEdits + 1;
      const edits = Math.min(whole, start);
      if (edits <= maxEdits) better({ tier: 3, score: 0.6 - 0.1 * edits - (whole > start ? 0.05 : 0), labelWord: i });
    }
  });
  return best;
}

/** How one label matches a query, or undefined when it does not. */
export function matchLabel(query: string, label: string): LabelMatch | undefined {
  return matchPrepared(prepareQuery(query), prepareLabel(label));
}

function matchPrepared(q: PreparedQuery, l: PreparedLabel): LabelMatch | undefined {
  if (q.words.length === 0) return undefined;
  const label = l.label;
  if (q.phrase !== '' && q.phrase === l.phrase) return { label, tier: 'phrase', score: 1 };

  const perWord = q.words.map((w) => matchWord(w, l.words));
  const matched = perWord.filter((m): m is WordMatch => m !== undefined);
  if (matched.length === perWord.length) {
    const mean = matched.reduce((s, m) => s + m.score, 0) / matched.length;
    const tier = Math.max(...matched.map((m) => m.tier)) as 1 | 2 | 3;
    return { label, tier: MATCH_TIERS[tier], score: mean };
  }
  if (q.compact.length >= 4) {
    const share = containment(q.trigrams, l.trigrams);
    if (share >= SIMILAR_THRESHOLD) return { label, tier: 'similar', score: share };
  }
  // Partial matches count only exact and prefix words: a typo-level match of half the query is noise.
  const sure = matched.filter((m) => m.tier <= 2);
  const share = sure.length / perWord.length;
  if (share >= PARTIAL_THRESHOLD) return { label, tier: 'partial', score: (share * sure.reduce((s, m) => s + m.score, 0)) / sure.length };
  return undefined;
}

/** Share of the label's (non stop) words that the query asked for: the tie-breaker after score. */
function coverage(q: PreparedQuery, l: PreparedLabel): number {
  const lw = l.words.filter((w) => !STOP_WORDS.has(w));
  if (lw.length === 0) return 0;
  const hit = lw.filter((w) => q.words.some((x) => w === x || w.startsWith(x) || editDistance(x, w, allowedEdits(x.length)) <= allowedEdits(x.length))).length;
  return hit / lw.length;
}

export function compareMatches(a: LabelMatch & { coverage: number }, b: LabelMatch & { coverage: number }): number {
  const t = MATCH_TIERS.indexOf(a.tier) - MATCH_TIERS.indexOf(b.tier);
  if (t !== 0) return t;
  if (a.score !== b.score) return b.score - a.score;
  if (a.coverage !== b.coverage) return b.coverage - a.coverage;
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

/** Labels of `vocabulary` matching `query`, best first (see the module comment for the order). */
export function matchLabels(query: string, vocabulary: readonly string[], limit = Number.POSITIVE_INFINITY): LabelMatch[] {
  // The query is normalised once and the labels once per vocabulary: the work per request is
  // bounded by MAX_MATCH_WORDS x MAX_MATCH_WORD_LENGTH against the vocabulary, whatever the input.
  const q = prepareQuery(query);
  const found: (LabelMatch & { coverage: number })[] = [];
  for (const l of prepareVocabulary(vocabulary)) {
    const m = matchPrepared(q, l);
    if (m) found.push({ ...m, coverage: coverage(q, l) });
  }
  found.sort(compareMatches);
  return found.slice(0, limit).map(({ label, tier, score }) => ({ label, tier, score: Math.round(score * 1e4) / 1e4 }));
}

/** At most this many labels are searched for one free-text query. */
export const MAX_SEARCH_LABELS = 5;
/** Within a fuzzy/similar/partial best tier, labels this close to the best score are kept. */
export const SEARCH_SCORE_SLACK = 0.05;

/**
 * The labels a free-text search looks in (at most MAX_SEARCH_LABELS, best first):
 * - a phrase match (the query is a label): that label alone;
 * - else every exact-word or prefix match ("ski" -> "ski jumping", "skiing slalom", ...);
 * - else the best tier's matches scoring within SEARCH_SCORE_SLACK of its best
 *   ("dribling" -> "dribbling basketball", not "drinking").
 */
export function labelsForSearch(query: string, vocabulary: readonly string[]): LabelMatch[] {
  const ranked = matchLabels(query, vocabulary);
  const first = ranked[0];
  if (!first) return [];
  if (first.tier === 'phrase') return [first];
  const strong = ranked.filter((m) => m.tier === 'exact' || m.tier === 'prefix');
  if (strong.length > 0) return strong.slice(0, MAX_SEARCH_LABELS);
  return ranked.filter((m) => m.tier === first.tier && m.score >= first.score - SEARCH_SCORE_SLACK - 1e-9).slice(0, MAX_SEARCH_LABELS);
}
