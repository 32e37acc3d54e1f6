import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { EventSettingsInput } from '../../core/settings/processes.ts';
import { acknowledge } from '../nag.ts';

export interface VideoEventsProps {
  /** POST every event here too (signed with the generated secret); none = no webhook. */
  readonly webhookUrl?: string | undefined;
}

/**
 * Where vidx announces that a video revision is indexed or failed (core/events): an SNS topic (for
 * email, SQS, Lambda subscribers), an EventBridge bus (for rules; source `vidx`, detail types
 * "Video Indexed" / "Video Failed"), and the secret that signs webhook bodies. The segmenter and
 * the workers publish; `grantPublish` gives a role exactly what that takes.
 */
export class VideoEvents extends Construct {
  readonly topic: sns.Topic;
  readonly bus: events.EventBus;
  readonly webhookSecret: secretsmanager.Secret;
  private readonly webhookUrl: string | undefined;

  constructor(scope: Construct, id: string, props: VideoEventsProps = {}) {
    super(scope, id);
    this.webhookUrl = props.webhookUrl;
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'vidx video events', enforceSSL: true });
    acknowledge(this.topic, {
      id: 'AwsSolutions-SNS2',
      reason: 'Events name a video, its status and labels (no secrets); an AWS-managed key would keep SQS/Lambda subscribers of other accounts from reading them. Add a customer-managed key if your subscribers allow it.',
    });
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: `${Stack.of(this).stackName}-video-events` });
    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: 'vidx: HMAC-SHA256 key that signs webhook bodies (header vidx-signature); give it to the receiver',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    acknowledge(this.webhookSecret, {
      id: 'AwsSolutions-SMG4',
      reason: 'A shared signing key the webhook receiver holds too: rotating it needs the receiver to change at the same moment, so rotation is manual (put a new value, redeploy nothing: workers read it at start).',
    });
  }

  /** The settings that turn the event sinks on (adapters/event-sinks.ts eventSinksOf), for a process's environmentOf. */
  settings(): EventSettingsInput {
    return {
      eventTopicArn: this.topic.topicArn,
      eventBusName: this.bus.eventBusName,
      ...(this.webhookUrl ? { webhookUrl: this.webhookUrl, webhookSecretArn: this.webhookSecret.secretArn } : {}),
    };
  }

  /** sns:Publish on the topic, events:PutEvents on the bus, and (with a webhook) reading the secret. */
  grantPublish(role: iam.IRole): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [this.bus.eventBusArn] }));
    if (this.webhookUrl) {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.webhookSecret.secretArn] }));
    }
  }
}
