/**
 * `vidx doctor [--port n] [--data dir] [--cache dir] [--json]`: what this machine has for vidx,
 * one line per check (ok / note / FAIL) with what to do (cli/commands/doctor-run.ts). Exit
 * status 1 when a check fails.
 */
import type { Command } from 'commander';
import { DEFAULTS } from '../../core/names.ts';
import { VidxError } from '../../core/errors.ts';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check this machine for vidx: Node, ffmpeg, cached models, disk, the local port, GPU')
    .option('--port <port>', 'the port `vidx local` would use', String(DEFAULTS.localApiPort))
    .option('--data <dir>', 'the data folder `vidx local` would use', DEFAULTS.localDataDir)
    .option('--cache <dir>', 'model cache (default: $VIDX_CACHE or ~/.cache/vidx/models)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { port: string; data: string; cache?: string; json?: boolean }) => {
      const { runDoctor, formatChecks } = await import('./doctor-run.ts');
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new VidxError('BAD_OPTION', `--port must be a port number, got "${opts.port}"`);
      const checks = await runDoctor({ port, data: opts.data, cache: opts.cache });
      process.stdout.write(opts.json ? `${JSON.stringify(checks, null, 2)}\n` : `${formatChecks(checks)}\n`);
      if (checks.some((c) => c.verdict === 'FAIL')) process.exitCode = 1;
    });
}
