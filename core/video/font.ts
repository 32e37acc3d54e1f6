/**
 * A font file for text drawn into video (ffmpeg drawtext needs one; fontconfig is not always set
 * up, e.g. in slim containers). `VIDX_FONT` first, then common system fonts of Debian/Ubuntu,
 * Fedora, Alpine, macOS and Windows; null when none is readable (the caller draws without text).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { ENV } from '../names.ts';

const SYSTEM_FONTS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf',
  '/usr/share/fonts/noto/NotoSans-Regular.ttf',
  '/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  '/Library/Fonts/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

function readableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch (_e) {
    return false; // absent or unreadable: try the next one
  }
}

/** The font to draw labels with, or null (with the reason) when there is none. */
export function findFont(env: NodeJS.ProcessEnv = process.env): { file: string } | { file: null; why: string } {
  const given = env[ENV.font];
  if (given) return readableFile(given) ? { file: given } : { file: null, why: `${ENV.font}=${given} is not a readable file` };
  const found = SYSTEM_FONTS.find(readableFile);
  return found ? { file: found } : { file: null, why: `no system font found; set ${ENV.font} to a .ttf file` };
}
