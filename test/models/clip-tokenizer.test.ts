/**
 * The CLIP tokenizer equals openai/CLIP's simple_tokenizer + clip.tokenize on the 25 reference
 * strings of ../shared/reference/clip_tokenizer_cases.json: cleaned text, pieces, BPE strings
 * and ids (SOT + ids + EOT).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClipTokenizer, cleanText, fixText, splitPieces } from '../../models/clip-tokenizer.ts';
import { CLIP_VOCAB_SHA256 } from '../../models/clip-vocab.ts';

interface Case {
  text: string;
  cleaned: string;
  pieces: string[];
  bpe: string[];
  ids: number[];
  length: number;
  truncated: boolean;
}

const reference = JSON.parse(readFileSync(new URL('../../../shared/reference/clip_tokenizer_cases.json', import.meta.url), 'utf8')) as {
  sot: number;
  eot: number;
  contextLength: number;
  vocabSize: number;
  cases: Case[];
  extraCases: Case[];
};
const SHARED_VOCAB = new URL('../../../shared/reference/clip_bpe_simple_vocab_16e6.txt.gz', import.meta.url);
const tokenizer = ClipTokenizer.fromFile(SHARED_VOCAB);
const all = [...reference.cases, ...reference.extraCases];

describe('CLIP tokenizer', () => {
  it('is checked against 25 reference strings (10 texts, 15 edge cases)', () => {
    expect(all).toHaveLength(25);
  });

  it('builds the 49408-id vocabulary with <|startoftext|> 49406 and <|endoftext|> 49407', () => {
    expect(tokenizer.vocabSize).toBe(reference.vocabSize);
    expect([tokenizer.sot, tokenizer.eot]).toEqual([reference.sot, reference.eot]);
  });

  it.each(all.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('tokenizes %s as simple_tokenizer does', (_name, c) => {
    const explained = tokenizer.explain(c.text);
    expect(explained.cleaned).toBe(c.cleaned);
    expect(explained.pieces).toEqual(c.pieces);
    expect(explained.bpe).toEqual(c.bpe);
    expect([tokenizer.sot, ...explained.ids, tokenizer.eot]).toEqual(c.ids);
    expect(c.ids).toHaveLength(c.length);
  });

  it('truncates as clip.tokenize(truncate=True): SOT + the first 75 ids + EOT', () => {
    const long = all.find((c) => c.truncated)!;
    const { tokens, truncated } = tokenizer.tokenize(long.text);
    expect(truncated).toBe(true);
    expect(tokens).toHaveLength(reference.contextLength);
    expect(tokens.slice(0, 76)).toEqual(long.ids.slice(0, 76));
    expect(tokens[76]).toBe(reference.eot);
    expect(tokenizer.tokenize('').tokens).toEqual([reference.sot, reference.eot]);
  });

  it('pads each row with 0 to 77 int32 ids for the text tower', () => {
    const rows = tokenizer.batch(['playing cricket', '']);
    expect(rows).toBeInstanceOf(Int32Array);
    expect(rows).toHaveLength(2 * 77);
    expect(Array.from(rows.slice(0, 5))).toEqual([49406, 1629, 5373, 49407, 0]);
    expect(Array.from(rows.slice(77, 80))).toEqual([49406, 49407, 0]);
  });

  it('unescapes HTML entities repeatedly only when the text has no "<", then html.unescape twice', () => {
    expect(fixText('&amp;amp;amp;lt;')).toBe('<');
    expect(cleanText('< &amp;amp;amp;lt;')).toBe('< &amp;lt;');
  });

  it('cleans quotes, full-width forms, ligatures, mojibake, ANSI escapes and decomposed accents', () => {
    expect(cleanText('\u201cit\u2019s\u201d')).toBe('"it\'s"');
    expect(cleanText('\uff21\uff22\u3000\uff43')).toBe('ab c');
    expect(cleanText('\ufb03ce')).toBe('ffice');
    expect(cleanText('na\u00c3\u00afve')).toBe('na\u00efve');
    expect(cleanText('\u001b[1;32mok\u001b[0m')).toBe('ok');
    expect(cleanText('cafe\u0301')).toBe('caf\u00e9');
  });

  it('splits letters of any script into one piece, each digit into its own, punctuation runs into one', () => {
    expect(splitPieces('東京 2024!? москва')).toEqual(['東京', '2', '0', '2', '4', '!?', 'москва']);
  });

  it('ships the vocabulary with the package and refuses one with another sha256', () => {
    expect(ClipTokenizer.packaged().encode('a person smoking')).toEqual([320, 2533, 9038]);
    const gz = readFileSync(SHARED_VOCAB);
    expect(() => new ClipTokenizer(gz, CLIP_VOCAB_SHA256.replace(/^./, '0'))).toThrow(expect.objectContaining({ code: 'TOKENIZER_VOCAB_BAD' }));
    expect(() => new ClipTokenizer(gz.subarray(0, 1000), null)).toThrow(expect.objectContaining({ code: 'TOKENIZER_VOCAB_BAD' }));
  });
});
