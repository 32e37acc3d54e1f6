/**
 * Bundles the page with esbuild: web/main.tsx (preact) -> app.js, web/app.css, web/index.html, web/favicon.svg.
 * `vidx local` builds it in memory on the first request; the CDK app builds it to a folder at
 * synth. Nothing is fetched at run time from anywhere else (no CDN).
 */
import { build, buildSync, type BuildOptions } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_DIR = dirname(fileURLToPath(import.meta.url));

/** The page's files by name (what is served at `/<name>`). */
export type WebFiles = Record<'index.html' | 'app.js' | 'app.css' | 'favicon.svg', string>;

export const WEB_FILE_NAMES: readonly (keyof WebFiles)[] = ['index.html', 'app.js', 'app.css', 'favicon.svg'];

const OPTIONS: BuildOptions = {
  entryPoints: [join(WEB_DIR, 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  write: false,
  logLevel: 'silent',
};

function statics(js: string): WebFiles {
  return {
    'index.html': readFileSync(join(WEB_DIR, 'index.html'), 'utf8'),
    'app.css': readFileSync(join(WEB_DIR, 'app.css'), 'utf8'),
    'favicon.svg': readFileSync(join(WEB_DIR, 'favicon.svg'), 'utf8'),
    'app.js': js,
  };
}

export async function bundleWeb(): Promise<WebFiles> {
  const r = await build(OPTIONS);
  return statics(r.outputFiles![0]!.text);
}

/** Synchronous build into `outdir` (CDK synthesis is synchronous). */
export function buildWebInto(outdir: string): WebFiles {
  const r = buildSync(OPTIONS);
  const files = statics(r.outputFiles![0]!.text);
  mkdirSync(outdir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(outdir, name), text);
  return files;
}

export const CONTENT_TYPES: Readonly<Record<keyof WebFiles | 'config.json', string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'config.json': 'application/json; charset=utf-8',
};
