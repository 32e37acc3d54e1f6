import { Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface WorkerScalingProps {
  readonly cluster: ecs.ICluster;
  readonly service: ecs.BaseService;
  readonly queue: sqs.IQueue;
  readonly maxTasks: number;
  /** Target of (visible + in-flight messages) / running tasks. */
  readonly backlogPerTask: number;
  readonly scaleToZeroAfterMinutes: number;
}

const ONE_MINUTE = Duration.minutes(1);

/**
 * The worker service's task count follows the clip queue, in three policies:
 * - backlog per task (target tracking on metric math): (visible + in flight) / running tasks; it
 *   sizes 1..max but cannot leave 0 (the ratio is undefined with no task, and 0 x anything is 0);
 * - scale from zero (step, exact capacity 1): messages are visible while the desired count is 0;
 * - scale to zero (step, exact capacity 0): nothing visible or in flight for N minutes, so no
 *   task is stopped while it still holds a message.
 */
export class WorkerScaling extends Construct {
  readonly target: appscaling.ScalableTarget;
  readonly backlogPerTaskPolicy: appscaling.CfnScalingPolicy;
  readonly scaleFromZeroAlarm: cloudwatch.Alarm;
  readonly scaleToZeroAlarm: cloudwatch.Alarm;
  /** For the dashboard. */
  readonly backlogPerTask: cloudwatch.MathExpression;
  readonly runningTasks: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: WorkerScalingProps) {
    super(scope, id);
    const { cluster, service, queue } = props;

    this.target = new appscaling.ScalableTarget(this, 'Target', {
      serviceNamespace: appscaling.ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${cluster.clusterName}/${service.serviceName}`,
      minCapacity: 0,
      maxCapacity: props.maxTasks,
      // The service-linked role Application Auto Scaling uses for ECS (created on first use).
      role: iam.Role.fromRoleArn(
        this,
        'ServiceLinkedRole',
        Stack.of(this).formatArn({
          service: 'iam',
          region: '',
          resource: 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
        }),
      ),
    });

    const visible = queue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: 'Maximum' });
    const inFlight = queue.metricApproximateNumberOfMessagesNotVisible({ period: ONE_MINUTE, statistic: 'Maximum' });
    const serviceDims = { ClusterName: cluster.clusterName, ServiceName: service.serviceName };
    const running = new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: serviceDims,
      period: ONE_MINUTE,
      statistic: 'Average',
    });
    const desired = new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'DesiredTaskCount',
      dimensionsMap: serviceDims,
      period: ONE_MINUTE,
      statistic: 'Maximum',
    });

    this.runningTasks = running;
    this.backlogPerTask = new cloudwatch.MathExpression({
      expression: '(visible + inflight) / running',
      usingMetrics: { visible, inflight: inFlight, running },
      label: 'backlog per task',
      period: ONE_MINUTE,
    });

    // L1: the L2 target tracking policy takes a single metric, not metric math.
    const metricStat = (id: string, m: cloudwatch.Metric) => ({
      id,
      returnData: false,
      metricStat: {
        metric: {
          namespace: m.namespace,
          metricName: m.metricName,
          dimensions: Object.entries(m.dimensions ?? {}).map(([name, value]) => ({ name, value: String(value) })),
        },
        stat: m.statistic,
      },
    });
    this.backlogPerTaskPolicy = new appscaling.CfnScalingPolicy(this, 'BacklogPerTask', {
      policyName: `${Stack.of(this).stackName}-worker-backlog-per-task`,
      policyType: 'TargetTrackingScaling',
      scalingTargetId: this.target.scalableTargetId,
      targetTrackingScalingPolicyConfiguration: {
        targetValue: props.backlogPerTask,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            metricStat('visible', visible),
            metricStat('inflight', inFlight),
            metricStat('running', running),
            { id: 'backlogPerTask', expression: '(visible + inflight) / running', label: 'backlog per task', returnData: true },
          ],
        },
      },
    });

    // Scale from zero: with no task the per-task ratio has no value, so this policy starts the first.
    this.scaleFromZeroAlarm = new cloudwatch.Alarm(this, 'ScaleFromZeroAlarm', {
      alarmDescription: 'vidx: clips are waiting and the worker service has no task: start one',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(visible > 0 AND FILL(desired, 0) < 1, 1, 0)',
        usingMetrics: { visible, desired },
        label: 'work waiting with zero tasks',
        period: ONE_MINUTE,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const fromZero = new appscaling.StepScalingAction(this, 'ScaleFromZero', {
      scalingTarget: this.target,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      cooldown: ONE_MINUTE,
    });
    fromZero.addAdjustment({ lowerBound: 0, adjustment: 1 });
    this.scaleFromZeroAlarm.addAlarmAction(new cwActions.ApplicationScalingAction(fromZero));

    // Scale to zero: nothing visible and nothing in flight (no task is mid-clip) for N minutes.
    // Missing data counts as empty: SQS stops publishing for a queue that stays idle.
    this.scaleToZeroAlarm = new cloudwatch.Alarm(this, 'ScaleToZeroAlarm', {
      alarmDescription: `vidx: no clip visible or in flight for ${props.scaleToZeroAfterMinutes} min: stop all workers`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(visible, 0) + FILL(inflight, 0)',
        usingMetrics: { visible, inflight: inFlight },
        label: 'clips visible + in flight',
        period: ONE_MINUTE,
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.scaleToZeroAfterMinutes,
      datapointsToAlarm: props.scaleToZeroAfterMinutes,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    const toZero = new appscaling.StepScalingAction(this, 'ScaleToZero', {
      scalingTarget: this.target,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
      cooldown: Duration.minutes(5),
    });
    toZero.addAdjustment({ upperBound: 0, adjustment: 0 });
    this.scaleToZeroAlarm.addAlarmAction(new cwActions.ApplicationScalingAction(toZero));
  }
}
