/**
 * zod without its eval probe: zod 4 compiles object parsers with `new Function` unless told not to,
 * and probing for that logs a Content-Security-Policy violation on a page that (rightly) forbids
 * eval. Imported first by main.tsx, before any schema parses.
 */
import { z } from 'zod';

z.config({ jitless: true });
