import { Duration, IgnoreMode, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import { environmentOf } from '../../core/settings/define.ts';
import { WORKER_SETTINGS, type WorkerSettingsInput } from '../../core/settings/processes.ts';
import { PATHS } from '../paths.ts';
import type { GpuCapacity } from './gpu-capacity.ts';

/**
 * The container health check: the worker's own /health on VIDX_HEALTH_PORT, asked with Node (the
 * image has no curl). The Dockerfile's HEALTHCHECK runs the same script (test/cdk checks both).
 */
export const WORKER_HEALTH_SCRIPT =
  "node -e \"fetch('http://127.0.0.1:'+process.env.VIDX_HEALTH_PORT+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\"";

/** Where the image build puts its models (gpu-worker/Dockerfile): `<dir>/<arch>.json` beside `<arch>.onnx`. */
export const IMAGE_MODELS_DIR = '/models/current';
export const imageManifestPath = (arch: string): string => `${IMAGE_MODELS_DIR}/${arch}.json`;

export interface GpuWorkerServiceProps {
  readonly capacity: GpuCapacity;
  /** The worker's settings (core/settings/processes.ts) but those this construct sets itself. */
  readonly settings: Omit<WorkerSettingsInput, 'region' | 'healthPort' | 'device' | 'model'>;
  readonly cpu: number;
  readonly memoryReservationMiB: number;
  readonly stopTimeoutSeconds: number;
  readonly healthPort: number;
  /** Architecture and weights the image build puts into /models. */
  readonly model: string;
  readonly modelSource: 'pretrained' | 'synthetic';
  /** Further architectures built into /models the same way (detection: the person detector and the action model). */
  readonly extraModels?: readonly string[];
  /** Mirror for the image build's `models pull` (VIDX_MODEL_ZOO_URL); none: the releases' own addresses. */
  readonly modelZooUrl?: string;
  readonly logRetentionDays: number;
}

/**
 * The worker image (built from gpu-worker/Dockerfile at deploy), a task that needs one GPU, and a
 * service on the GPU capacity provider that starts at 0 tasks; scaling is WorkerScaling's job.
 */
export class GpuWorkerService extends Construct {
  readonly image: ecrAssets.DockerImageAsset;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.Ec2Service;
  readonly logGroup: logs.LogGroup;
  readonly taskRole: iam.Role;

  constructor(scope: Construct, id: string, props: GpuWorkerServiceProps) {
    super(scope, id);
    this.image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: PATHS.repoRoot,
      file: PATHS.workerDockerfile,
      platform: ecrAssets.Platform.LINUX_AMD64,
      ignoreMode: IgnoreMode.DOCKER, // the repo's .dockerignore keeps the context small
      buildArgs: {
        VIDX_ARCH: props.model,
        VIDX_MODEL_SOURCE: props.modelSource,
        ...(props.extraModels?.length ? { VIDX_EXTRA_ARCHS: props.extraModels.join(' ') } : {}),
        ...(props.modelZooUrl ? { VIDX_MODEL_ZOO_URL: props.modelZooUrl } : {}),
      },
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays, // numeric enum of days, validated in config
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'vidx GPU worker: data grants are added explicitly by the stack',
    });

    // Bridge networking: tasks in public subnets reach AWS through the instance's address (awsvpc on
    // EC2 gets no public IP), and with IMDSv2 hop limit 1 they cannot reach the instance role.
    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'Task', {
      networkMode: ecs.NetworkMode.BRIDGE,
      taskRole: this.taskRole,
    });
    this.container = this.taskDefinition.addContainer('worker', {
      image: ecs.ContainerImage.fromDockerImageAsset(this.image),
      essential: true,
      gpuCount: 1,
      // An init process (tini) forwards SIGTERM to the worker and reaps ffmpeg children.
      linuxParameters: new ecs.LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      cpu: props.cpu,
      memoryReservationMiB: props.memoryReservationMiB,
      stopTimeout: Duration.seconds(props.stopTimeoutSeconds),
      environment: environmentOf(WORKER_SETTINGS, {
        ...props.settings,
        // Not set by ECS on EC2, and IMDS is out of the container's reach: the SDK needs it.
        region: Stack.of(this).region,
        healthPort: props.healthPort,
        device: 'cuda',
        // The classifier's manifest where the image build put it (the image's own default too).
        model: imageManifestPath(props.model),
      }),
      healthCheck: {
        command: ['CMD-SHELL', WORKER_HEALTH_SCRIPT],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(120), // model load and CUDA init
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'worker',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      }),
    });

    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: props.capacity.cluster,
      taskDefinition: this.taskDefinition,
      // 0 at creation: no GPU is paid for until there is work. Auto scaling owns the count afterwards.
      desiredCount: 0,
      capacityProviderStrategies: [{ capacityProvider: props.capacity.capacityProvider.capacityProviderName, weight: 1 }],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      enableECSManagedTags: true,
    });

    acknowledge(this.taskDefinition, {
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds resource names, URLs and settings only; the worker has no secrets (AWS access comes from its task role).',
    });
    acknowledge(this.taskDefinition, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Execution role added by CDK: ecr:GetAuthorizationToken supports no resource scoping (the image pull itself is scoped to the asset repository).',
    });
  }
}
