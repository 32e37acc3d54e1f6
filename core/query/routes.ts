/** The API's routes (ARCHITECTURE.md "Query API"), matched on the raw path. */
export type Route =
  | { name: 'actions' }
  | { name: 'search' }
  | { name: 'videos' }
  | { name: 'video'; id: string }
  | { name: 'timeline'; id: string }
  | { name: 'media'; id: string }
  | { name: 'uploadUrl' }
  | { name: 'uploadParts' };

export const ALLOWED_METHODS = ['GET'] as const;

/** Matches a path (leading stage prefix already removed); a single trailing slash is ignored. */
export function matchRoute(path: string): Route | undefined {
  const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const parts = p.split('/');
  if (parts[0] !== '') return undefined;
  const [, a, b, c, ...rest] = parts;
  if (rest.length > 0) return undefined;
  if (b === undefined) {
    if (a === 'actions') return { name: 'actions' };
    if (a === 'search') return { name: 'search' };
    if (a === 'videos') return { name: 'videos' };
    if (a === 'upload-url') return { name: 'uploadUrl' };
    if (a === 'upload-parts') return { name: 'uploadParts' };
    return undefined;
  }
  if (a !== 'videos' || b === '') return undefined;
  const id = safeDecode(b);
  if (id === undefined) return undefined;
  if (c === undefined) return { name: 'video', id };
  if (c === 'timeline') return { name: 'timeline', id };
  if (c === 'media') return { name: 'media', id };
  return undefined;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch (_e) {
    return undefined;
  }
}
