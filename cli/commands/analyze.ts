import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerAnalyze(program: Command): void {
  program.command('analyze').description('(coming soon)').action(() => {
    throw new Error('vidx analyze is not built yet');
  });
}
