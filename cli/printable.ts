/**
 * Text from outside (object keys, file names, server messages) made safe to print on a terminal:
 * control characters (C0, DEL, C1: an ESC could recolour, move the cursor or retitle the window),
 * line and paragraph separators and the bidirectional overrides (which could make a key read as
 * another) are written as escapes (`\x1b`, `\u{202e}`); a backslash is doubled so an escape in
 * the output always means one in the text.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\\\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
