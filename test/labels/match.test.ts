import { describe, expect, it } from 'vitest';
import { MAX_MATCH_WORDS, MAX_MATCH_WORD_LENGTH, editDistance, labelsForSearch, matchLabel, matchLabels, normalize, prepareQuery, trigramContainment } from '../../core/labels/match.ts';
import { kinetics400 } from '../query/helpers/vocabulary.ts';

const vocab = kinetics400();
const labels = (q: string, n?: number) => matchLabels(q, vocab, n).map((m) => m.label);
const BASKETBALL = ['dribbling basketball', 'dunking basketball', 'playing basketball', 'shooting basketball'];

describe('label matching against the real Kinetics-400 labels', () => {
  it('has the 400 labels', () => {
    expect(vocab).toHaveLength(400);
  });

  it('finds every basketball label for the typo "basketbal", and nothing ranks above them', () => {
    expect(labels('basketbal', 4).sort()).toEqual(BASKETBALL);
  });

  it('ranks the phrase first and other labels sharing words after it', () => {
    const r = matchLabels('playing basketbal', vocab);
    expect(r[0]).toMatchObject({ label: 'playing basketball', tier: 'prefix' });
    expect(r.slice(1, 4).map((m) => m.label).sort()).toEqual(['dribbling basketball', 'dunking basketball', 'shooting basketball']);
    expect(matchLabels('Playing  Basketball!', vocab)[0]).toMatchObject({ label: 'playing basketball', tier: 'phrase', score: 1 });
  });

  it('ranks exact word > prefix > fuzzy', () => {
    const r = matchLabels('ski', vocab);
    expect(r[0]).toMatchObject({ label: 'ski jumping', tier: 'exact' });
    expect(r.slice(1, 5).map((m) => m.tier)).toEqual(['prefix', 'prefix', 'prefix', 'prefix']);
    expect(r.map((m) => m.label)).toContain('water skiing');
    const swim = matchLabels('swim', vocab);
    expect(swim.slice(0, 3).map((m) => m.label)).toEqual(['swimming backstroke', 'swimming breast stroke', 'swimming butterfly stroke']);
    expect(swim[3]?.tier).toBe('fuzzy'); // "swing ..." comes only after every prefix match
    const tiers = ['phrase', 'exact', 'prefix', 'fuzzy', 'similar', 'partial'];
    for (const q of ['ball', 'swim', 'basket ball', 'cricket shot', 'guitr']) {
      const t = matchLabels(q, vocab).map((m) => tiers.indexOf(m.tier));
      expect(t).toEqual([...t].sort((a, b) => a - b));
    }
  });

  it('tolerates typos by edit distance (substitution, deletion, transposition)', () => {
    expect(labels('guitr').sort()).toEqual(['playing bass guitar', 'playing guitar', 'strumming guitar', 'tapping guitar']);
    expect(labels('crikcet', 1)).toEqual(['playing cricket']);
    expect(labels('dribling', 1)).toEqual(['dribbling basketball']);
    expect(labels('skatebord', 1)).toEqual(['skateboarding']);
  });

  it('finds split and joined words by trigram similarity', () => {
    expect(labels('basket ball', 4).sort()).toEqual(BASKETBALL);
    expect(labels('jet ski ing', 1)).toEqual(['jetskiing']);
  });

  it('normalises case, accents, apostrophes and punctuation', () => {
    expect(normalize("Massaging Person's HEAD")).toBe('massaging persons head');
    expect(normalize('Café  (crème)')).toBe('cafe creme');
    expect(labels('persons head', 1)).toEqual(["massaging person's head"]);
    expect(matchLabels('SKIING: not slalom, or crosscountry', vocab)[0]).toMatchObject({ label: 'skiing (not slalom or crosscountry)', tier: 'phrase' });
  });

  it('finds nothing for nonsense and does not match short words fuzzily', () => {
    expect(labels('xyzzy')).toEqual([]);
    expect(labels('qqq')).toEqual([]);
    expect(matchLabel('cat', 'eating cake')).toBeUndefined();
  });

  it('keeps partial matches last ("cricket shot" -> playing cricket first)', () => {
    const r = matchLabels('cricket shot', vocab);
    expect(r[0]).toMatchObject({ label: 'playing cricket', tier: 'partial' });
  });

  it('orders ties alphabetically, so the ranking is stable', () => {
    expect(labels('basketbal', 4)).toEqual(BASKETBALL);
  });

  it('picks the labels a free-text search reads', () => {
    const pick = (q: string) => labelsForSearch(q, vocab).map((m) => m.label);
    expect(pick('basketbal')).toEqual(BASKETBALL);
    expect(pick('playing basketball')).toEqual(['playing basketball']);
    expect(pick('playing basketbal')).toEqual(['playing basketball']);
    expect(pick('dribling')).toEqual(['dribbling basketball']); // not "drinking" (one more edit)
    expect(pick('ski')).toHaveLength(5);
    expect(pick('xyzzy')).toEqual([]);
  });

  it('edit distance and trigram containment', () => {
    expect(editDistance('basketbal', 'basketball')).toBe(1);
    expect(editDistance('crikcet', 'cricket')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('kitten', 'sitting', 1)).toBe(2);
    expect(trigramContainment('basketball', 'playingbasketball')).toBe(1);
    expect(trigramContainment('zzz', 'playingbasketball')).toBe(0);
  });
});

describe('the matcher\'s work is bounded, whatever the text', () => {
  it('matches on at most MAX_MATCH_WORDS distinct words of at most MAX_MATCH_WORD_LENGTH letters', () => {
    const q = prepareQuery('\uFDFA'.repeat(1000)); // 18,000 characters once normalized
    expect(q.words.length).toBeLessThanOrEqual(MAX_MATCH_WORDS);
    for (const w of q.words) expect(w.length).toBeLessThanOrEqual(MAX_MATCH_WORD_LENGTH);
    expect(new Set(q.words).size).toBe(q.words.length);
    expect(prepareQuery('x'.repeat(5000)).words).toEqual(['x'.repeat(MAX_MATCH_WORD_LENGTH)]);
    // A query cut short is never the phrase of a label.
    expect(matchLabels(`${'playing basketball '.repeat(5)}`, vocab)[0]?.tier).not.toBe('phrase');
  });

  it('100 x U+FDFA costs no more than an ordinary eight-word query (same run, median of 5)', () => {
    const median = (q: string) => {
      const t: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        matchLabels(q, vocab);
        labelsForSearch(q, vocab);
        t.push(performance.now() - t0);
      }
      return t.sort((a, b) => a - b)[2]!;
    };
    median('warm up');
    const ordinary = median('dribling baskteball playin guitr jumpin skiin swimmin cookin');
    const hostile = median('\uFDFA'.repeat(100));
    const huge = median('\uFDFA'.repeat(2000));
    // Before the bound, 100 x U+FDFA took about 60x an ordinary query (1,800 characters matched
    // against every label, normalized again for each); now it is a few distinct words.
    expect(hostile, `ordinary ${ordinary.toFixed(1)} ms`).toBeLessThan(3 * ordinary + 10);
    expect(huge, `ordinary ${ordinary.toFixed(1)} ms`).toBeLessThan(3 * ordinary + 10);
  });
});
