import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit`: fast tests of pure code, no network (not even localhost), no ffmpeg, no
 * ONNX, no emulators, no CDK synth; `npm run test:unit` runs only these. `integration`: everything
 * else (real ffmpeg, models, emulators, HTTP, synth). `npm test` (CI) runs both.
 * A new test file is integration unless it is listed here.
 */
export const UNIT_TESTS = [
  'test/unit/**/*.test.ts',
  'test/analyze/format.test.ts',
  'test/analyze/score-loop.test.ts',
  'test/cli/upload.test.ts',
  'test/cli/printable.test.ts',
  'test/cli/presigned.test.ts',
  'test/detection/detection-core.test.ts',
  'test/detection/tracking.test.ts',
  'test/index/memory-index.test.ts',
  'test/labels/match.test.ts',
  'test/models/checkpoint.test.ts',
  'test/models/clip-tokenizer.test.ts',
  'test/models/manifest.test.ts',
  'test/models/store.test.ts',
  'test/models/torchscript.test.ts',
  'test/models/tps-shifts.test.ts',
  'test/pipeline/timeline-builder.test.ts',
  'test/pipeline/units.test.ts',
  'test/query/cursor.test.ts',
  'test/query/params.test.ts',
  'test/query/search.test.ts',
  'test/timeline/*.test.ts',
  'test/teach/linear-probe.test.ts',
  'test/vectors/memory.test.ts',
  'test/video/windows.test.ts',
  'test/web/page-logic.test.ts',
  'test/web/person-boxes.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores: model parity and ffmpeg-heavy files are CPU bound; more workers only thrash.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    // The AWS SDK's documented switch for its notice that releases after January 2027 need Node 22:
    // the suite runs on Node 20 too, and every test file (and CLI child) would print it once.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_TESTS } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT_TESTS } },
    ],
  },
});
