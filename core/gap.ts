/**
 * A time range missing from a video's timeline: a clip that failed for good (the file itself, e.g.
 * a damaged stretch), and why. The record keeps them (status `indexed_with_gaps`) and the API
 * shows them; plain zod, so the web page can import it.
 */
import { z } from 'zod';

export const GapSchema = z.object({
  start: z.number().nonnegative(),
  end: z.number().nonnegative(),
  /** The clip's index in the revision's plan. */
  clip: z.number().int().nonnegative(),
  errorCode: z.string(),
  reason: z.string(),
});
export type Gap = z.infer<typeof GapSchema>;
