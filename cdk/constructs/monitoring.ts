import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_QUEUE_RETENTION_SECONDS } from '../../core/infra-definitions.ts';
import { acknowledge } from '../nag.ts';

export const METRIC_NAMESPACE = 'vidx';
export const WORKER_ERRORS_METRIC = 'WorkerErrors';

/**
 * Error lines of the worker's JSON logs: pino-style numeric levels (50 error, 60 fatal) or textual
 * levels (Powertools and console JSON: "error"/"ERROR"/"fatal").
 */
export const WORKER_ERROR_PATTERN =
  '{ ($.level = "error") || ($.level = "ERROR") || ($.level = "fatal") || ($.level = "FATAL") || ($.level >= 50) }';

export interface MonitoredFunction {
  readonly name: string;
  readonly fn: lambda.IFunction;
}

export interface MonitoringProps {
  readonly clipQueue: sqs.IQueue;
  readonly clipDeadLetterQueue: sqs.IQueue;
  /** Upload events the segmenter failed on too often (the intake queue's dead-letter queue). */
  readonly segmenterDeadLetterQueue: sqs.IQueue;
  /** S3 upload events waiting for the segmenter. */
  readonly intakeQueue: sqs.IQueue;
  /** Percent of the queues' retention the oldest message may wait before the expiry alarm. */
  readonly expiryAlarmPercent: number;
  readonly functions: readonly MonitoredFunction[];
  readonly workerLogGroup: logs.ILogGroup;
  readonly workerErrorThreshold: number;
  readonly oldestMessageAlarmSeconds: number;
  readonly api: apigw.HttpApi;
  readonly backlogPerTask: cloudwatch.IMetric;
  readonly runningTasks: cloudwatch.IMetric;
  readonly alarmEmail?: string;
}

/** Alarms (to an SNS topic) and one dashboard for the pipeline. */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'vidx alarms', enforceSSL: true });
    acknowledge(this.topic, {
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and alarm notifications carry no data worth a customer-managed key.',
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new cwActions.SnsAction(this.topic);
    const add = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      this.alarms.push(alarm);
      return alarm;
    };

    add(
      props.clipDeadLetterQueue
        .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' })
        .createAlarm(this, 'ClipDeadLetterNotEmpty', {
          alarmDescription: 'vidx: clips failed maxReceiveCount times and wait in the dead-letter queue',
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
    add(
      props.segmenterDeadLetterQueue
        .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' })
        .createAlarm(this, 'SegmenterDeadLetterNotEmpty', {
          alarmDescription: 'vidx: S3 upload events the segmenter failed on intakeMaxReceiveCount times wait in the intake dead-letter queue (redrive them: README "Reliability")',
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );
    add(
      props.clipQueue
        .metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' })
        .createAlarm(this, 'OldestClipTooOld', {
          alarmDescription: `vidx: a clip has waited more than ${props.oldestMessageAlarmSeconds} s (workers down, failing or too few)`,
          threshold: props.oldestMessageAlarmSeconds,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );

    // Against the retention: the backlog is old enough that, at this pace, jobs start to expire.
    const expiryAge = Math.round((MAX_QUEUE_RETENTION_SECONDS * props.expiryAlarmPercent) / 100);
    const days = (seconds: number) => (seconds / 86_400).toFixed(1);
    for (const [name, queue, what] of [['ClipJobsNearExpiry', props.clipQueue, 'clip job'], ['UploadEventsNearExpiry', props.intakeQueue, 'upload event']] as const) {
      add(
        queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }).createAlarm(this, name, {
          alarmDescription: `vidx: the oldest ${what} has waited ${days(expiryAge)} of the queue's ${days(MAX_QUEUE_RETENTION_SECONDS)} days of retention: add workers (workerMaxTasks) or they expire`,
          threshold: expiryAge,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const workerErrors = new logs.MetricFilter(this, 'WorkerErrorLines', {
      logGroup: props.workerLogGroup,
      filterPattern: logs.FilterPattern.literal(WORKER_ERROR_PATTERN),
      metricNamespace: METRIC_NAMESPACE,
      metricName: WORKER_ERRORS_METRIC,
      metricValue: '1',
      defaultValue: 0,
    });
    const workerErrorMetric = workerErrors.metric({ statistic: 'Sum', period: Duration.minutes(5) });
    add(
      workerErrorMetric.createAlarm(this, 'WorkerErrors', {
        alarmDescription: `vidx: the GPU workers logged ${props.workerErrorThreshold}+ errors in 5 minutes`,
        threshold: props.workerErrorThreshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    for (const { name, fn } of props.functions) {
      add(
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }).createAlarm(this, `${name}Errors`, {
          alarmDescription: `vidx: the ${name} Lambda failed`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const apiId = props.api.apiId;
    const apiMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ApiId: apiId }, statistic, period: Duration.minutes(5) });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-pipeline`,
      defaultInterval: Duration.hours(6),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Clip queue',
        left: [
          props.clipQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), label: 'visible' }),
          props.clipQueue.metricApproximateNumberOfMessagesNotVisible({ period: Duration.minutes(1), label: 'in flight' }),
          props.clipDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), label: 'dead letters' }),
        ],
        right: [props.clipQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), label: 'oldest (s)' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'GPU workers',
        left: [props.runningTasks],
        right: [props.backlogPerTask, workerErrorMetric],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambdas: invocations and errors',
        left: props.functions.map(({ name, fn }) => fn.metricInvocations({ label: `${name} invocations`, period: Duration.minutes(5) })),
        right: props.functions.map(({ name, fn }) => fn.metricErrors({ label: `${name} errors`, period: Duration.minutes(5) })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Query API',
        left: [apiMetric('Count', 'Sum'), apiMetric('4xx', 'Sum'), apiMetric('5xx', 'Sum')],
        right: [apiMetric('Latency', 'p90')],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }),
    );
  }
}
