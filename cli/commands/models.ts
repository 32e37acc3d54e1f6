import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerModels(program: Command): void {
  program.command('models').description('(coming soon)').action(() => {
    throw new Error('vidx models is not built yet');
  });
}
