/**
 * Building blocks of process settings (core/settings/define.ts): one constructor per kind of value,
 * each saying what it allows, and the groups of settings several processes share.
 */
import { z } from 'zod';
import { ANALYSES, type Analyses } from '../detection/analyses.ts';
import { DEFAULT_KEYFRAME_INTERVAL } from '../detection/keyframes.ts';
import { DEFAULTS, ENV, TABLE, type EnvName } from '../names.ts';
import type { Setting } from './define.ts';
import { INDEX_DEFAULTS } from '../infra-definitions.ts';

/** A non-empty string (a name, an ARN, a URL, a path). */
export function text(env: EnvName, what: string): Setting<z.ZodString> {
  return { env, kind: 'text', schema: z.string().min(1), allowed: what };
}

/** A non-empty string with a default. */
export function textOr(env: EnvName, what: string, fallback: string): Setting<z.ZodDefault<z.ZodString>> {
  return { env, kind: 'text', schema: z.string().min(1).default(fallback), allowed: what };
}

export function optionalText(env: EnvName, what: string): Setting<z.ZodOptional<z.ZodString>> {
  return { env, kind: 'text', schema: z.string().min(1).optional(), allowed: what };
}

/** One of `values`. */
export function oneOf<const V extends readonly [string, ...string[]]>(env: EnvName, values: V, fallback: V[number]): Setting<z.ZodDefault<z.ZodEnum<{ [K in V[number]]: K }>>> {
  return { env, kind: 'text', schema: z.enum(values).default(fallback as never), allowed: values.join(', ') };
}

const intAllowed = (min: number, max: number) => `an integer from ${min} to ${max}`;

export function integer(env: EnvName, min: number, max: number, fallback: number): Setting<z.ZodDefault<z.ZodNumber>> {
  return { env, kind: 'number', schema: z.number().int().min(min).max(max).default(fallback), allowed: intAllowed(min, max) };
}

/** An integer whose default depends on other settings (worked out by the process). */
export function optionalInteger(env: EnvName, min: number, max: number): Setting<z.ZodOptional<z.ZodNumber>> {
  return { env, kind: 'number', schema: z.number().int().min(min).max(max).optional(), allowed: intAllowed(min, max) };
}

export function positive(env: EnvName, max: number, fallback: number, unit: string): Setting<z.ZodDefault<z.ZodNumber>> {
  return { env, kind: 'number', schema: z.number().positive().max(max).default(fallback), allowed: `a number of ${unit} above 0, at most ${max}` };
}

export function probability(env: EnvName): Setting<z.ZodOptional<z.ZodNumber>> {
  return { env, kind: 'number', schema: z.number().min(0).max(1).optional(), allowed: 'a number from 0 to 1' };
}

/** "1"/"true" or "0"/"false". */
export function flag(env: EnvName): Setting<z.ZodDefault<z.ZodBoolean>> {
  return { env, kind: 'flag', schema: z.boolean().default(false), allowed: '1 (on) or 0 (off)' };
}

const toAnalyses = (a: readonly string[]): Analyses => ({ classify: a.includes('classify'), detect: a.includes('detect') });

/** classify, detect or classify,detect (core/detection/analyses.ts); unset = classify. */
export const analysesSetting = {
  env: ENV.analyses,
  kind: 'list',
  schema: z.array(z.enum(ANALYSES)).min(1).default(['classify']).transform(toAnalyses),
  allowed: 'classify, detect or classify,detect',
} as const satisfies Setting;

export const keyframeIntervalSetting = positive(ENV.keyframeInterval, 60, DEFAULT_KEYFRAME_INTERVAL, 'seconds');

/** The index table (deployments pass its physical name). */
export const tableSetting = textOr(ENV.table, 'the index table\'s name', TABLE.name);

/** Write shards per label of the search index: every process of a deployment reads the same value. */
export const labelShardsSetting = integer(ENV.labelShards, 1, 64, INDEX_DEFAULTS.labelShards);

/** Where the SDK clients go (adapters/clients.ts): the region, and the emulators' endpoints locally. */
export const AWS_FIELDS = {
  region: textOr(ENV.region, 'an AWS region (e.g. us-east-1)', DEFAULTS.region),
  endpoint: optionalText(ENV.endpoint, 'the S3 + SQS endpoint URL (local emulators)'),
  dynamoEndpoint: optionalText(ENV.dynamoEndpoint, 'the DynamoDB endpoint URL (local emulator)'),
};

/** Done/failed event sinks (adapters/event-sinks.ts): any of the first three set = that sink is on. */
export const EVENT_FIELDS = {
  eventTopicArn: optionalText(ENV.eventTopicArn, 'an SNS topic ARN'),
  eventBusName: optionalText(ENV.eventBusName, 'an EventBridge bus name'),
  webhookUrl: { env: ENV.webhookUrl, kind: 'text', schema: z.url({ protocol: /^https?$/ }).optional(), allowed: 'an http(s) URL' } as const satisfies Setting,
  webhookSecretArn: optionalText(ENV.webhookSecretArn, 'the Secrets Manager ARN of the webhook signing key'),
  webhookSecret: optionalText(ENV.webhookSecret, 'the webhook signing key itself'),
  snsEndpoint: optionalText(ENV.snsEndpoint, 'an SNS endpoint URL'),
  eventsEndpoint: optionalText(ENV.eventsEndpoint, 'an EventBridge endpoint URL'),
  secretsEndpoint: optionalText(ENV.secretsEndpoint, 'a Secrets Manager endpoint URL'),
};
