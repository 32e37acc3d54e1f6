export { mergeSegments, checkTimelineOptions, compareSegments } from './merge.ts';
export type { MergeOptions } from './merge.ts';
export { summarize, unionSeconds } from './summary.ts';
export { defaultTimelineOptions, DEFAULT_GAP, DEFAULT_THRESHOLD, DEFAULT_TOP_K, UNTRAINED_THRESHOLD } from './defaults.ts';
