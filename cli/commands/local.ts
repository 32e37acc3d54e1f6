import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerLocal(program: Command): void {
  program.command('local').description('(coming soon)').action(() => {
    throw new Error('vidx local is not built yet');
  });
}
