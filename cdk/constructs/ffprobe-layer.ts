import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Where the layer puts ffprobe inside a function (layers are mounted at /opt). */
export const FFPROBE_LAYER_PATH = '/opt/bin/ffprobe';

const PACKAGE_FOR: Record<string, string> = {
  [lambda.Architecture.X86_64.name]: '@ffprobe-installer/linux-x64',
  [lambda.Architecture.ARM_64.name]: '@ffprobe-installer/linux-arm64',
};

/** Folder of the static ffprobe npm package for a Lambda architecture, or a clear error. */
export function ffprobePackageDir(architecture: lambda.Architecture): string {
  const pkg = PACKAGE_FOR[architecture.name];
  if (!pkg) throw new Error(`no ffprobe package for Lambda architecture ${architecture.name}`);
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch (_err) {
    throw new Error(
      `${pkg} is not installed, so the ffprobe layer for ${architecture.name} cannot be built; ` +
        `use lambdaArchitecture=${architecture.name === 'arm64' ? 'x86_64' : 'arm64'} or install it (npm i -O ${pkg})`,
    );
  }
  if (!existsSync(join(dir, 'ffprobe'))) throw new Error(`${pkg} has no ffprobe binary in ${dir}`);
  return dir;
}

export interface FfprobeLayerProps {
  readonly architecture: lambda.Architecture;
}

/**
 * A Lambda layer with the static ffprobe from npm at /opt/bin/ffprobe, built at synth by a local
 * bundling step (copy + chmod 755, since the npm file is not executable by Lambda's user); no Docker.
 */
export class FfprobeLayer extends Construct {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props: FfprobeLayerProps) {
    super(scope, id);
    const source = ffprobePackageDir(props.architecture);
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `static ffprobe (${props.architecture.name}) at ${FFPROBE_LAYER_PATH}`,
      compatibleArchitectures: [props.architecture],
      code: lambda.Code.fromAsset(source, {
        bundling: {
          // Only used if local bundling were impossible; local bundling below always succeeds.
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36'),
          command: ['sh', '-c', 'mkdir -p /asset-output/bin && cp /asset-input/ffprobe /asset-output/bin/ffprobe && chmod 755 /asset-output/bin/ffprobe'],
          local: {
            tryBundle(outputDir: string): boolean {
              mkdirSync(join(outputDir, 'bin'), { recursive: true });
              const target = join(outputDir, 'bin', 'ffprobe');
              copyFileSync(join(source, 'ffprobe'), target);
              chmodSync(target, 0o755);
              return true;
            },
          },
        },
      }),
    });
  }
}
