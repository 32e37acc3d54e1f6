/**
 * Event sinks over AWS (adapters of core/events/deliver.ts EventSink): an SNS topic and an
 * EventBridge bus, plus the webhook secret read from Secrets Manager. Which sinks are on comes from
 * the environment (names in core/names.ts ENV), the same in Lambda, ECS and `vidx local`.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { VidxError } from '../core/errors.ts';
import { ENV } from '../core/names.ts';
import type { EventSettings } from '../core/settings/processes.ts';
import type { EventSink } from '../core/events/deliver.ts';
import { webhookSink } from '../core/events/webhook.ts';
import { EVENT_DETAIL_TYPES, EVENT_SOURCE, type VideoEvent } from '../core/events/video-event.ts';
import type { AwsConfig } from './clients.ts';

/** Local emulators and test receivers accept any credentials; real AWS never gets these. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientConfig = (region: string, endpoint: string | undefined) => ({ region, ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}) });

export function snsSink(sns: SNSClient, topicArn: string): EventSink {
  return {
    name: `sns ${topicArn}`,
    async send(event: VideoEvent, body: string) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: body,
          Subject: `vidx: ${event.video.key} ${event.status}`.slice(0, 100).replace(/[^\x20-\x7e]/g, '_'),
          // Subscriptions can filter on these without parsing the body.
          MessageAttributes: {
            type: { DataType: 'String', StringValue: event.type },
            status: { DataType: 'String', StringValue: event.status },
            eventId: { DataType: 'String', StringValue: event.id },
          },
        }),
      );
    },
  };
}

export function eventBridgeSink(events: EventBridgeClient, busName: string): EventSink {
  return {
    name: `eventbridge ${busName}`,
    async send(event: VideoEvent, body: string) {
      const r = await events.send(
        new PutEventsCommand({
          Entries: [{ EventBusName: busName, Source: EVENT_SOURCE, DetailType: EVENT_DETAIL_TYPES[event.status], Detail: body, Resources: [], Time: new Date(event.time) }],
        }),
      );
      const failed = r.Entries?.find((e) => e.ErrorCode);
      if ((r.FailedEntryCount ?? 0) > 0 || failed) throw new Error(`PutEvents refused the event: ${failed?.ErrorCode ?? ''} ${failed?.ErrorMessage ?? ''}`.trim());
    },
  };
}

export async function readSecret(secrets: SecretsManagerClient, secretId: string): Promise<string> {
  const r = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (!r.SecretString) throw new VidxError('EVENTS_CONFIG', `the secret ${secretId} has no string value`);
  return r.SecretString;
}

export interface EventSinks {
  sinks: EventSink[];
  destroy(): void;
}

/**
 * The sinks a process's settings ask for (core/settings/fields.ts EVENT_FIELDS): SNS
 * (VIDX_EVENT_TOPIC_ARN), EventBridge (VIDX_EVENT_BUS), a webhook (VIDX_WEBHOOK_URL, signed with
 * VIDX_WEBHOOK_SECRET or the Secrets Manager secret VIDX_WEBHOOK_SECRET_ARN). None set = no events.
 */
export async function eventSinksOf(config: AwsConfig, s: EventSettings): Promise<EventSinks> {
  const sinks: EventSink[] = [];
  const destroy: (() => void)[] = [];
  const topic = s.eventTopicArn;
  if (topic) {
    const sns = new SNSClient(clientConfig(config.region, s.snsEndpoint || config.endpoint));
    destroy.push(() => sns.destroy());
    sinks.push(snsSink(sns, topic));
  }
  const bus = s.eventBusName;
  if (bus) {
    const events = new EventBridgeClient(clientConfig(config.region, s.eventsEndpoint));
    destroy.push(() => events.destroy());
    sinks.push(eventBridgeSink(events, bus));
  }
  const url = s.webhookUrl;
  if (url) {
    let secret = s.webhookSecret;
    const secretArn = s.webhookSecretArn;
    if (!secret && secretArn) {
      const sm = new SecretsManagerClient(clientConfig(config.region, s.secretsEndpoint));
      try {
        secret = await readSecret(sm, secretArn);
      } finally {
        sm.destroy();
      }
    }
    if (!secret) throw new VidxError('EVENTS_CONFIG', `${ENV.webhookUrl} is set but neither ${ENV.webhookSecret} nor ${ENV.webhookSecretArn}: webhook bodies must be signed`);
    try {
      sinks.push(webhookSink({ url, secret }));
    } catch (e) {
      throw new VidxError('EVENTS_CONFIG', `${ENV.webhookUrl} is not a URL: "${url}"`, { cause: e });
    }
  }
  return { sinks, destroy: () => destroy.forEach((d) => d()) };
}
