import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerSearch(program: Command): void {
  program.command('search').description('(coming soon)').action(() => {
    throw new Error('vidx search is not built yet');
  });
}
