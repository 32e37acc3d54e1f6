/**
 * Builds the vidx stack the way `npx cdk synth` does (bundling the Lambdas with esbuild, staging
 * the ffprobe layer and the Docker context), once per test file, into a temporary cloud assembly.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type PolicyViolation } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig, type ConfigInput, type VidxConfig } from '../../cdk/config.ts';
import { REPO_ROOT } from '../../cdk/paths.ts';
import { VidxStack } from '../../cdk/vidx-stack.ts';

/** A schema-valid SlowFast manifest (synthetic source) for the segmenter bundle. */
export const FIXTURE_MANIFEST = 'test/cdk/fixtures/slowfast_r50.json';

export interface Synthesized {
  readonly stack: VidxStack;
  readonly template: Template;
  readonly config: VidxConfig;
  /** Cloud assembly folder (bundled Lambdas, layer, Docker context). */
  readonly outdir: string;
  /** cdk-nag AwsSolutions findings left after the acknowledgements in code. */
  readonly nagViolations: readonly PolicyViolation[];
}

export function synthesize(overrides: ConfigInput = {}, context: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'vidx-cdk-'));
  const app = new App({ outdir, context });
  const config = loadConfig(app.node, { modelManifest: FIXTURE_MANIFEST, ...overrides });
  const stack = new VidxStack(app, 'VidxTest', { config });
  const template = Template.fromStack(stack);
  const nag = new AwsSolutionsChecks(app).validateScope(app);
  app.synth();
  return { stack, template, config, outdir, nagViolations: nag.violations };
}

export { REPO_ROOT };

/** Logical ids of the resources of a type whose properties contain the given fragment. */
export function resourcesOfType(template: Template, type: string): Record<string, { Properties: Record<string, unknown> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>;
}
