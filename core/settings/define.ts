/**
 * Process settings as data. A process (worker, segmenter, query, sweeper, local stack) declares its
 * settings once: per setting, the environment variable that carries it (a name of core/names.ts
 * ENV), how its text is read, and a zod schema of the typed value with its default. From that one
 * declaration come
 * - `parseSettings`: the typed settings of a process, read from its environment once at its entry;
 *   a bad or missing value is an InvalidSettingError naming the variable and what it allows;
 * - `environmentOf`: the environment that gives a process those settings, typed by the schema's
 *   input (what the CDK constructs and `vidx local` set: a missing required setting or a misspelled
 *   one is a type error, a value out of range an error at synth);
 * - `envNamesOf`: every variable a process reads (the CDK tests check each construct against it).
 */
import { z } from 'zod';
import { VidxError } from '../errors.ts';
import type { EnvName } from '../names.ts';

/** How a setting's text is read from and written to the environment. */
export type SettingKind = 'text' | 'number' | 'flag' | 'list';

export interface Setting<S extends z.ZodType = z.ZodType> {
  readonly env: EnvName;
  readonly kind: SettingKind;
  readonly schema: S;
  /** What the variable allows, for a person ("an integer from 1 to 10"). */
  readonly allowed: string;
}

export type SettingFields = Record<string, Setting>;

type Shape<F extends SettingFields> = { [K in keyof F]: F[K]['schema'] };
/** The settings as parsed (defaults filled in). */
export type ParsedSettings<F extends SettingFields> = z.output<z.ZodObject<Shape<F>>>;
/** What sets them: required settings required, defaulted ones optional. */
export type SettingsInput<F extends SettingFields> = z.input<z.ZodObject<Shape<F>>>;

/** A rule between settings: a problem with `key` (its variable is named), or nothing. */
export type SettingsCheck<F extends SettingFields> = (s: ParsedSettings<F>) => { key: keyof F & string; message: string } | undefined;

export interface ProcessSettings<F extends SettingFields> {
  /** The process, as a person names it ("the worker"). */
  readonly process: string;
  readonly fields: F;
  readonly schema: z.ZodObject<Shape<F>>;
  readonly checks: readonly SettingsCheck<F>[];
}

export function defineSettings<F extends SettingFields>(process: string, fields: F, checks: readonly SettingsCheck<F>[] = []): ProcessSettings<F> {
  const shape = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.schema])) as Shape<F>;
  return { process, fields, schema: z.object(shape), checks };
}

/** A setting in a process's environment that is missing or has a value it does not allow. */
export class InvalidSettingError extends VidxError {
  constructor(
    /** The environment variable. */
    readonly variable: string,
    /** What it allows. */
    readonly allowed: string,
    message: string,
    hint = `set ${variable} to ${allowed}`,
  ) {
    super('INVALID_SETTING', message, { hint });
  }
}

function decode(kind: SettingKind, raw: string): unknown {
  switch (kind) {
    case 'text':
      return raw;
    case 'number':
      return raw.trim() === '' ? Number.NaN : Number(raw);
    case 'flag':
      return raw === '1' || raw === 'true' ? true : raw === '0' || raw === 'false' ? false : raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }
}

function encode(kind: SettingKind, value: unknown): string {
  if (kind === 'flag') return value ? '1' : '0';
  if (kind === 'list') return (value as readonly unknown[]).join(',');
  return String(value);
}

/** Reads a process's settings from `env` (empty = unset), checks them, fills in the defaults. */
export function parseSettings<F extends SettingFields>(def: ProcessSettings<F>, env: NodeJS.ProcessEnv = process.env): ParsedSettings<F> {
  const raw: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(def.fields)) {
    const text = env[f.env];
    // Text is taken as given (a secret may hold spaces); numbers, flags and lists without padding.
    if (text !== undefined && text.trim() !== '') raw[key] = decode(f.kind, f.kind === 'text' ? text : text.trim());
  }
  const parsed = def.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]);
    const f = def.fields[key]!;
    const given = env[f.env];
    throw new InvalidSettingError(
      f.env,
      f.allowed,
      given === undefined || given.trim() === '' ? `${def.process} needs ${f.env} (${f.allowed})` : `${f.env} must be ${f.allowed}, got "${given}"`,
    );
  }
  for (const check of def.checks) {
    const problem = check(parsed.data);
    if (problem) {
      const f = def.fields[problem.key]!;
      throw new InvalidSettingError(f.env, problem.message, `${f.env}: ${problem.message}`, `change ${f.env} or the setting it depends on`);
    }
  }
  return parsed.data;
}

/**
 * The environment that gives a process `settings`: one variable per setting given (defaults are
 * left to the process). Checked as the process will check it, so a bad value fails here first.
 */
export function environmentOf<F extends SettingFields>(def: ProcessSettings<F>, settings: SettingsInput<F>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, f] of Object.entries(def.fields)) {
    const value = (settings as Record<string, unknown>)[key];
    if (value !== undefined) env[f.env] = encode(f.kind, value);
  }
  parseSettings(def, env);
  return env;
}

/** Every environment variable the process reads. */
export function envNamesOf(def: Pick<ProcessSettings<SettingFields>, 'fields'>): string[] {
  return Object.values(def.fields).map((f) => f.env);
}

/** The variables the process cannot start without. */
export function requiredEnvNamesOf(def: Pick<ProcessSettings<SettingFields>, 'fields'>): string[] {
  return Object.values(def.fields).filter((f) => !f.schema.safeParse(undefined).success).map((f) => f.env);
}
