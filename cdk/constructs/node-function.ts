import { existsSync } from 'node:fs';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.ts';
import { PATHS } from '../paths.ts';

/** Native or binary-carrying packages that must never be bundled into a Lambda (none is called there). */
const NEVER_BUNDLED = ['@ffprobe-installer/*', '@ffmpeg-installer/*', 'onnxruntime-node', 'fauxqs', 'dynalite'];

/** ESM bundles need `require` for the CommonJS packages esbuild inlines (the AWS SDK's dependencies). */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __vidxCreateRequire } from 'node:module'; const require = __vidxCreateRequire(import.meta.url);";

export interface NodeFunctionProps {
  readonly entry: string;
  readonly description: string;
  readonly architecture: lambda.Architecture;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly logRetentionDays: number;
  readonly reservedConcurrentExecutions?: number;
  readonly layers?: lambda.ILayerVersion[];
  readonly deadLetterQueue?: sqs.IQueue;
  /** Files copied beside the bundle (absolute source path -> file name in the bundle). */
  readonly copyBesideBundle?: Record<string, string>;
}

/**
 * A TypeScript handler bundled by esbuild (locally, no Docker) for Node 22, with its own log group
 * and a role that may write only to that log group: permissions for the code are granted by the
 * caller, statement by statement.
 */
export class NodeFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays, // RetentionDays is a numeric enum of days
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description}: logs to its own log group; data grants are added explicitly`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const copies = Object.entries(props.copyBesideBundle ?? {});
    for (const [from] of copies) {
      if (!existsSync(from)) throw new Error(`${id}: ${from} must be bundled beside the handler but does not exist`);
    }
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      layers: props.layers,
      deadLetterQueue: props.deadLetterQueue,
      projectRoot: PATHS.repoRoot,
      depsLockFilePath: PATHS.lockFile,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the SDK: the version in package-lock.json is the one the tests ran against.
        bundleAwsSDK: true,
        externalModules: NEVER_BUNDLED,
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) =>
            copies.map(([from, name]) => `cp "${from}" "${outputDir}/${name}"`),
        },
      },
    });
    acknowledge(this.fn, {
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 on purpose: ARCHITECTURE.md fixes nodejs22.x for the Lambdas and the worker image runs Node 22, so code is tested on one runtime.',
    });
  }
}
