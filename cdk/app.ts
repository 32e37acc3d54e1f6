/**
 * The vidx CDK app (cdk.json: `node bin/run-ts.js cdk/app.ts`). Environment-agnostic on purpose:
 * it synthesizes offline with no account, no lookups and no Docker (the worker image is built at
 * deploy). cdk-nag's AwsSolutions checks run on every synth; unsuppressed findings fail it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from './config.ts';
import { VidxStack } from './vidx-stack.ts';

const app = new App();
const config = loadConfig(app.node);
new VidxStack(app, config.stackName, {
  config,
  description: 'vidx: searchable action timelines for videos dropped into S3 (GPU workers on ECS, Lambdas, DynamoDB, HTTP API)',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
