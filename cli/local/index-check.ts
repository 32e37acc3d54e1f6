/**
 * Checks `vidx local`'s index (dynalite's LevelDB folder, <data>/dynamodb) before the emulator
 * opens it. dynalite meets a damaged folder with an uncaught exception (junk in CURRENT), a crash
 * on the first read of a damaged table file, or, worse, an empty index it then starts over in (a
 * truncated log). Here every entry is read once, so any of these is found at start and answered
 * with DATA_INDEX_DAMAGED naming the folder, the file where LevelDB says, and what to do.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { VidxError } from '../../core/errors.ts';

export interface IndexCheck {
  /** The folder held an index (false: a first start). */
  existed: boolean;
  /** Entries read. */
  entries: number;
}

export async function checkIndexFolder(path: string): Promise<IndexCheck> {
  if (!existsSync(path) || readdirSync(path).length === 0) return { existed: false, entries: 0 };
  const damaged = (file: string, why: string, cause?: unknown) =>
    new VidxError('DATA_INDEX_DAMAGED', `the local index ${path} is damaged (${file}: ${why})`, {
      ...(cause === undefined ? {} : { cause }),
      hint: `stop vidx local, move ${path} aside (e.g. to ${path}.damaged) and start again: the uploads kept in ${join(path, '..', 'objects')} are indexed again; or put back a backup of ${path}`,
    });
  const current = join(path, 'CURRENT');
  if (!existsSync(current)) throw damaged('CURRENT', 'missing: the folder is not a complete LevelDB database');
  const manifest = readFileSync(current, 'latin1');
  if (!/^MANIFEST-\d+\n$/.test(manifest)) throw damaged(current, `does not name a MANIFEST file (it holds ${JSON.stringify(manifest.slice(0, 40))})`);
  if (!existsSync(join(path, manifest.trim()))) throw damaged(current, `names ${manifest.trim()}, which is missing`);
  const db = new Level(path, { createIfMissing: false, keyEncoding: 'buffer', valueEncoding: 'buffer' });
  let entries = 0;
  try {
    await db.open();
    for await (const _entry of db.iterator()) entries++;
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause ?? e;
    const message = cause instanceof Error ? cause.message : String(cause);
    throw damaged(/\b\d{6}\.(ldb|log|sst)\b|MANIFEST-\d+/.exec(message)?.[0] ?? 'LevelDB', message, e);
  } finally {
    await db.close().catch(() => undefined);
  }
  // dynalite keeps its table definitions as entries: a database with none lost what it held.
  if (entries === 0) throw damaged(readdirSync(path).find((f) => f.endsWith('.log')) ?? 'the log', 'the database opened empty: its log or tables were cut short');
  return { existed: true, entries };
}
