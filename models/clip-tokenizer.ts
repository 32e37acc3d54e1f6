/**
 * OpenAI CLIP's text tokenizer (`clip/simple_tokenizer.py` and `clip.tokenize` of openai/CLIP),
 * in TypeScript, with no dependency heavier than node:zlib and `entities` (HTML entity tables):
 *
 *   text -> clean (the parts of ftfy.fix_text that matter for queries, then html.unescape twice,
 *           strip) -> collapse whitespace -> lower-case -> split into pieces (the regex below)
 *        -> each piece's UTF-8 bytes as GPT-2's byte characters, "</w>" on the last
 *        -> byte-level BPE with the vocabulary's merges -> ids
 *   tokenize: [<|startoftext|>] + ids + [<|endoftext|>], at most contextLength (truncate=True:
 *   SOT + the first contextLength - 2 ids + EOT), padded with 0 for the text tower.
 *
 * ftfy.fix_text (default config) is reproduced for: HTML entities (repeatedly, and only when the
 * text has no "<"), ANSI terminal escapes, UTF-8 read as Windows-1252 / Latin-1 (mojibake, one
 * round), C1 controls, Latin ligatures, full- and half-width forms, curly quotes, line breaks,
 * control characters, NFC. What it leaves out is listed in docs/decisions.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { decodeHTML, decodeHTMLStrict } from 'entities';
import { VidxError } from '../core/errors.ts';
import { CLIP_VOCAB_SHA256, PACKAGED_CLIP_VOCAB } from './clip-vocab.ts';

export const SOT_TOKEN = '<|startoftext|>';
export const EOT_TOKEN = '<|endoftext|>';
/** Merges used: lines 2 .. 48895 of the vocabulary file (49152 - 256 - 2 of them). */
const MERGES = 49152 - 256 - 2;
export const CLIP_CONTEXT_LENGTH = 77;

/** simple_tokenizer's pattern (regex module, IGNORECASE), with Unicode property escapes. */
const PIECE = /<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/giu;

/**
 * GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest are moved past 255.
 * `ordered`: the characters in the table's order (the vocabulary's first 256 entries); `byByte`: by byte.
 */
function bytesToUnicode(): { ordered: string[]; byByte: string[] } {
  const bs: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const byByte = new Array<string>(256);
  bs.forEach((b, i) => (byByte[b] = String.fromCharCode(cs[i]!)));
  return { ordered: cs.map((c) => String.fromCharCode(c)), byByte };
}
const { ordered: ORDERED_BYTE_CHARS, byByte: BYTE_CHAR } = bytesToUnicode();

// ---- the text clean-up (ftfy.fix_text's relevant fixes, basic_clean, whitespace_clean) ----

/** Windows-1252 for bytes 0x80..0x9f (ftfy's "sloppy" codec: the five undefined bytes stand for themselves). */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';
const CP1252_BYTE = new Map<string, number>();
for (let b = 0; b < 256; b++) CP1252_BYTE.set(b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80]! : String.fromCharCode(b), b);
/** A character that is one byte in sloppy Windows-1252, as a class for the mojibake pattern. */
const CONT = `[\\x80-\\xbf${[...CP1252_HIGH].filter((c) => c.charCodeAt(0) > 0xff).join('')}]`;
/** UTF-8 sequences (lead + continuation bytes) as they read when decoded as Windows-1252. */
const MOJIBAKE = new RegExp(`[\\xc2-\\xdf]${CONT}|[\\xe0-\\xef]${CONT}{2}|[\\xf0-\\xf4]${CONT}{3}`, 'gu');

function fixMojibake(text: string): string {
  return text.replace(MOJIBAKE, (seq) => {
    const bytes = Uint8Array.from([...seq], (c) => CP1252_BYTE.get(c)!);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return seq;
    }
  });
}

/** ftfy.fixes.fix_c1_controls: a C1 control is the Windows-1252 character of its byte. */
function fixC1Controls(text: string): string {
  return text.replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!);
}

/** ftfy's LIGATURES table. */
const LIGATURES: Record<string, string> = {
  Ĳ: 'IJ', ĳ: 'ij', ŉ: 'ʼn', Ǆ: 'DŽ', ǅ: 'Dž', ǆ: 'dž', Ǉ: 'LJ', ǈ: 'Lj', ǉ: 'lj', Ǌ: 'NJ', ǋ: 'Nj', ǌ: 'nj',
  ﬀ: 'ff', ﬁ: 'fi', ﬂ: 'fl', ﬃ: 'ffi', ﬄ: 'ffl', ﬅ: 'ſt', ﬆ: 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'gu');

/** ftfy's WIDTH_MAP: U+FF01..U+FFEF by their NFKC form, and the ideographic space. */
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
function fixWidth(text: string): string {
  return text.replace(WIDTH_RE, (c) => (c === '\u3000' ? ' ' : c.normalize('NFKC')));
}

/** ftfy.fixes.uncurl_quotes. */
function uncurlQuotes(text: string): string {
  return text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
}

/** ftfy.fixes.fix_line_breaks. */
function fixLineBreaks(text: string): string {
  return text.replace(/\r\n|[\r\u2028\u2029\x85]/g, '\n');
}

/** ftfy.fixes.remove_terminal_escapes (ANSI colour and cursor codes). */
function removeTerminalEscapes(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/\x1b\[((?:\d|;)*)([a-zA-Z])/g, '');
}

/** ftfy.fixes.remove_control_chars (keeps tab, line feed, form feed, carriage return). */
function removeControlChars(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g, '');
}

/** ftfy.fixes.unescape_html: complete entities (with ";") only. */
function unescapeEntities(text: string): string {
  return text.replace(/&#?[0-9A-Za-z]{1,24};/g, (entity) => {
    const decoded = decodeHTMLStrict(entity);
    return decoded.includes(';') ? entity : decoded;
  });
}

/** ftfy.fix_text's steps that matter here, repeated until nothing changes (as ftfy does). */
export function fixText(input: string): string {
  const unescape = !input.includes('<');
  let text = input;
  // Each round only shortens or normalizes the text; the bound is a guard, not a tuning knob.
  for (let round = 0; round < 32; round++) {
    const before = text;
    if (unescape) text = unescapeEntities(text);
    text = removeTerminalEscapes(text);
    text = fixMojibake(text);
    text = fixC1Controls(text);
    text = text.replace(LIGATURE_RE, (c) => LIGATURES[c]!);
    text = fixWidth(text);
    text = uncurlQuotes(text);
    text = fixLineBreaks(text);
    text = removeControlChars(text);
    text = text.normalize('NFC');
    if (text === before) break;
  }
  return text;
}

/** Python's str.strip() (whitespace by str.isspace). */
function pyStrip(text: string): string {
  // eslint-disable-next-line no-control-regex -- Python's isspace() includes the separators \x1c-\x1f
  return text.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, '');
}

/** simple_tokenizer's basic_clean, whitespace_clean and lower(). */
export function cleanText(text: string): string {
  let t = fixText(text);
  t = decodeHTML(decodeHTML(t));
  t = pyStrip(t);
  t = t.replace(/\s+/gu, ' ').trim();
  return t.toLowerCase();
}

export function splitPieces(cleaned: string): string[] {
  return cleaned.match(PIECE) ?? [];
}

// ---- BPE ----

function vocabError(message: string, cause?: unknown): VidxError {
  return new VidxError('TOKENIZER_VOCAB_BAD', message, cause === undefined ? {} : { cause });
}

export interface TokenizedText {
  /** start, ids, end: as fed to the text tower (unpadded), at most contextLength. */
  tokens: number[];
  /** True when the text was longer and cut (clip.tokenize(truncate=True)). */
  truncated: boolean;
}

export class ClipTokenizer {
  readonly sot: number;
  readonly eot: number;
  private readonly encoder = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, string[]>();

  /** From the gzipped vocabulary file's bytes, checked against `sha256` when given. */
  constructor(gz: Uint8Array, sha256: string | null = CLIP_VOCAB_SHA256) {
    if (sha256 !== null) {
      const actual = createHash('sha256').update(gz).digest('hex');
      if (actual !== sha256) throw vocabError(`the BPE vocabulary has sha256 ${actual}, expected ${sha256}`);
    }
    let lines: string[];
    try {
      lines = new TextDecoder('utf-8', { fatal: true }).decode(gunzipSync(gz)).split('\n');
    } catch (e) {
      throw vocabError(`the BPE vocabulary is not gzipped UTF-8 text: ${(e as Error).message}`, e);
    }
    const merges = lines.slice(1, MERGES + 1);
    if (merges.length !== MERGES) throw vocabError(`the BPE vocabulary has ${merges.length} merges, expected ${MERGES}`);
    const vocab = [...ORDERED_BYTE_CHARS, ...ORDERED_BYTE_CHARS.map((c) => `${c}</w>`)];
    merges.forEach((line, rank) => {
      const parts = line.split(' ');
      if (parts.length !== 2) throw vocabError(`BPE merge ${rank + 2} is ${JSON.stringify(line)}, not two symbols`);
      this.ranks.set(`${parts[0]} ${parts[1]}`, rank);
      vocab.push(`${parts[0]}${parts[1]}`);
    });
    vocab.push(SOT_TOKEN, EOT_TOKEN);
    vocab.forEach((v, id) => this.encoder.set(v, id));
    this.sot = this.encoder.get(SOT_TOKEN)!;
    this.eot = this.encoder.get(EOT_TOKEN)!;
    this.cache.set(SOT_TOKEN, [SOT_TOKEN]);
    this.cache.set(EOT_TOKEN, [EOT_TOKEN]);
  }

  /** The vocabulary shipped with vidx. */
  static packaged(): ClipTokenizer {
    return ClipTokenizer.fromFile(PACKAGED_CLIP_VOCAB);
  }

  static fromFile(path: string | URL, sha256: string | null = CLIP_VOCAB_SHA256): ClipTokenizer {
    let gz: Buffer;
    try {
      gz = readFileSync(path);
    } catch (e) {
      throw vocabError(`cannot read the BPE vocabulary ${String(path)}: ${(e as Error).message}`, e);
    }
    return new ClipTokenizer(gz, sha256);
  }

  get vocabSize(): number {
    return this.encoder.size;
  }

  /** The BPE strings of one piece (byte characters, "</w>" ending the last). */
  bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached !== undefined) return cached;
    let word = [...token.slice(0, -1), `${token.slice(-1)}</w>`];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every occurrence of the pair, left to right, as simple_tokenizer does.
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (word[i] === first && i < word.length - 1 && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    this.cache.set(token, word);
    return word;
  }

  /** A cleaned text's pieces, BPE strings and ids (no SOT / EOT). */
  explain(text: string): { cleaned: string; pieces: string[]; bpe: string[]; ids: number[] } {
    const cleaned = cleanText(text);
    const pieces = splitPieces(cleaned);
    const bpe: string[] = [];
    for (const piece of pieces) {
      const bytes = new TextEncoder().encode(piece);
      bpe.push(...this.bpe(Array.from(bytes, (b) => BYTE_CHAR[b]!).join('')));
    }
    const ids = bpe.map((s) => {
      const id = this.encoder.get(s);
      if (id === undefined) throw vocabError(`BPE string ${JSON.stringify(s)} is not in the vocabulary`);
      return id;
    });
    return { cleaned, pieces, bpe, ids };
  }

  /** SimpleTokenizer.encode: the ids of a text. */
  encode(text: string): number[] {
    return this.explain(text).ids;
  }

  /** clip.tokenize(text, truncate=True), unpadded: SOT + ids + EOT, cut to contextLength with EOT last. */
  tokenize(text: string, contextLength = CLIP_CONTEXT_LENGTH): TokenizedText {
    const tokens = [this.sot, ...this.encode(text), this.eot];
    if (tokens.length <= contextLength) return { tokens, truncated: false };
    const cut = tokens.slice(0, contextLength);
    cut[contextLength - 1] = this.eot;
    return { tokens: cut, truncated: true };
  }

  /** Rows of contextLength int32 ids, zero-padded: the text tower's input. */
  batch(texts: readonly string[], contextLength = CLIP_CONTEXT_LENGTH): Int32Array {
    const out = new Int32Array(texts.length * contextLength);
    texts.forEach((t, i) => out.set(this.tokenize(t, contextLength).tokens, i * contextLength));
    return out;
  }
}

/** Pads tokenized rows with 0 into [N, contextLength] int32. */
export function padTokens(rows: readonly number[][], contextLength = CLIP_CONTEXT_LENGTH): Int32Array {
  const out = new Int32Array(rows.length * contextLength);
  rows.forEach((r, i) => out.set(r.slice(0, contextLength), i * contextLength));
  return out;
}
