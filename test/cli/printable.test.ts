/**
 * What the CLI prints of keys and messages from outside cannot drive the terminal: control
 * characters, separators and bidirectional overrides come out as escapes; plain keys unchanged.
 */
import { describe, expect, it } from 'vitest';
import { printable } from '../../cli/printable.ts';
import { formatTable } from '../../cli/commands/search.ts';

describe('printable', () => {
  it('leaves ordinary keys alone, accents and spaces included', () => {
    for (const k of ['videos/a.mp4', 'videos/ski run (2).mp4', 'videos/café été.mov', 'videos/日本.mp4']) expect(printable(k)).toBe(k);
  });

  it('escapes ESC sequences, newlines, DEL, C1 controls, separators and bidi overrides', () => {
    expect(printable('videos/\u001b[2J\u001b]0;pwned\u0007x.mp4')).toBe('videos/\\x1b[2J\\x1b]0;pwned\\x07x.mp4');
    expect(printable('a\nb\rc\td\u007f\u009b')).toBe('a\\x0ab\\x0dc\\x09d\\x7f\\x9b');
    expect(printable('videos/\u202egpj.exe\u2028\ufeff')).toBe('videos/\\u{202e}gpj.exe\\u{2028}\\u{feff}');
  });

  it('doubles a backslash, so an escape printed always stands for a character escaped', () => {
    expect(printable('videos/\\x1b.mp4')).toBe('videos/\\\\x1b.mp4');
  });

  it('the search table prints keys escaped: one line per hit', () => {
    const table = formatTable([{ label: 'skiing', videoId: '0123456789abcdef0123', key: 'videos/evil\n\u001b[31mred.mp4', start: 0, end: 2, score: 0.9 } as Parameters<typeof formatTable>[0][number]]);
    expect(table.split('\n')).toHaveLength(2);
    expect(table).not.toContain('\u001b');
    expect(table).toContain('videos/evil\\x0a\\x1b[31mred.mp4');
  });
});
