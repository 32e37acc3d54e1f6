/** Absolute paths the CDK app reads at synth time (entry points, lock file, Docker context). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const PATHS = {
  repoRoot: REPO_ROOT,
  lockFile: join(REPO_ROOT, 'package-lock.json'),
  segmenterEntry: join(REPO_ROOT, 'lambdas', 'segmenter', 'handler.ts'),
  queryEntry: join(REPO_ROOT, 'lambdas', 'query', 'handler.ts'),
  sweeperEntry: join(REPO_ROOT, 'lambdas', 'sweeper', 'handler.ts'),
  thumbnailsEntry: join(REPO_ROOT, 'lambdas', 'thumbnails', 'handler.ts'),
  /** models/labels.ts reads it via new URL('./kinetics400_labels.txt', import.meta.url). */
  labels: join(REPO_ROOT, 'models', 'kinetics400_labels.txt'),
  /** The AVA actions, read the same way: /actions and /search match both vocabularies. */
  avaLabels: join(REPO_ROOT, 'models', 'ava_v2.2_labels.txt'),
  workerDockerfile: 'gpu-worker/Dockerfile',
} as const;
