/** Limits the web page shares with the API (browser-safe: no imports). */
export const MAX_QUERY_LENGTH = 100;
/** videoIdFor() in core/records.ts: 20 lower-case hex characters. */
export const VIDEO_ID_PATTERN = /^[0-9a-f]{20}$/;
