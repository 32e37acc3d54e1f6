import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerUpload(program: Command): void {
  program.command('upload').description('(coming soon)').action(() => {
    throw new Error('vidx upload is not built yet');
  });
}
