/** Limits the web page shares with the API (browser-safe: no imports). */
export const MAX_QUERY_LENGTH = 100;
