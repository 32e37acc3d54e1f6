/** Hours the kept copy of a failed upload stays under <data>/objects before it is pruned (light: `vidx local --help` reads it). */
export const DEFAULT_KEEP_FAILED_HOURS = 24;
