/** Absolute paths the CDK app reads at synth time (entry points, lock file, Docker context). */
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The segmenter's model manifest: the configured path, or the first default candidate that exists. */
export function resolveModelManifest(model: string, configured?: string): string {
  const candidates = configured
    ? [resolve(REPO_ROOT, configured)]
    : [join(REPO_ROOT, 'models', `${model}.json`), join(REPO_ROOT, 'models', 'manifests', `${model}.json`)];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `no model manifest for "${model}" (looked for ${candidates.join(', ')}); the segmenter plans windows with it. ` +
        `Create one with \`npx vidx models synthesize ${model} --out models\` or pass -c vidx:modelManifest=<path>`,
    );
  }
  return found;
}

export const PATHS = {
  repoRoot: REPO_ROOT,
  lockFile: join(REPO_ROOT, 'package-lock.json'),
  segmenterEntry: join(REPO_ROOT, 'lambdas', 'segmenter', 'handler.ts'),
  queryEntry: join(REPO_ROOT, 'lambdas', 'query', 'handler.ts'),
  /** models/labels.ts reads it via new URL('./kinetics400_labels.txt', import.meta.url). */
  labels: join(REPO_ROOT, 'models', 'kinetics400_labels.txt'),
  workerDockerfile: 'gpu-worker/Dockerfile',
} as const;
