import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Where the layers put ffprobe and ffmpeg inside a function (layers are mounted at /opt). */
export const FFPROBE_LAYER_PATH = '/opt/bin/ffprobe';
export const FFMPEG_LAYER_PATH = '/opt/bin/ffmpeg';

type Tool = 'ffprobe' | 'ffmpeg';

const PACKAGE_FOR: Record<Tool, Record<string, string>> = {
  ffprobe: {
    [lambda.Architecture.X86_64.name]: '@ffprobe-installer/linux-x64',
    [lambda.Architecture.ARM_64.name]: '@ffprobe-installer/linux-arm64',
  },
  ffmpeg: {
    [lambda.Architecture.X86_64.name]: '@ffmpeg-installer/linux-x64',
    [lambda.Architecture.ARM_64.name]: '@ffmpeg-installer/linux-arm64',
  },
};

/** Folder of the static npm package of a tool for a Lambda architecture, or a clear error. */
export function toolPackageDir(tool: Tool, architecture: lambda.Architecture): string {
  const pkg = PACKAGE_FOR[tool][architecture.name];
  if (!pkg) throw new Error(`no ${tool} package for Lambda architecture ${architecture.name}`);
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch (_err) {
    throw new Error(
      `${pkg} is not installed, so the ${tool} layer for ${architecture.name} cannot be built; ` +
        `use lambdaArchitecture=${architecture.name === 'arm64' ? 'x86_64' : 'arm64'} or install it (npm i -O ${pkg})`,
    );
  }
  if (!existsSync(join(dir, tool))) throw new Error(`${pkg} has no ${tool} binary in ${dir}`);
  return dir;
}

/** Folder of the static ffprobe npm package for a Lambda architecture, or a clear error. */
export function ffprobePackageDir(architecture: lambda.Architecture): string {
  return toolPackageDir('ffprobe', architecture);
}

export interface FfprobeLayerProps {
  readonly architecture: lambda.Architecture;
}

/**
 * A Lambda layer with a static tool from npm at /opt/bin/<tool>, built at synth by a local
 * bundling step (copy + chmod 755, since the npm file is not executable by Lambda's user); no Docker.
 */
class ToolLayer extends Construct {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, tool: Tool, props: FfprobeLayerProps) {
    super(scope, id);
    const source = toolPackageDir(tool, props.architecture);
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `static ${tool} (${props.architecture.name}) at /opt/bin/${tool}`,
      compatibleArchitectures: [props.architecture],
      code: lambda.Code.fromAsset(source, {
        bundling: {
          // Only used if local bundling were impossible; local bundling below always succeeds.
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.36'),
          command: ['sh', '-c', `mkdir -p /asset-output/bin && cp /asset-input/${tool} /asset-output/bin/${tool} && chmod 755 /asset-output/bin/${tool}`],
          local: {
            tryBundle(outputDir: string): boolean {
              mkdirSync(join(outputDir, 'bin'), { recursive: true });
              const target = join(outputDir, 'bin', tool);
              copyFileSync(join(source, tool), target);
              chmodSync(target, 0o755);
              return true;
            },
          },
        },
      }),
    });
  }
}

/** ffprobe at FFPROBE_LAYER_PATH (the segmenter probes with it). */
export class FfprobeLayer extends ToolLayer {
  constructor(scope: Construct, id: string, props: FfprobeLayerProps) {
    super(scope, id, 'ffprobe', props);
  }
}

/** ffmpeg at FFMPEG_LAYER_PATH (the thumbnail consumer cuts frames with it). */
export class FfmpegLayer extends ToolLayer {
  constructor(scope: Construct, id: string, props: FfprobeLayerProps) {
    super(scope, id, 'ffmpeg', props);
  }
}
