import type { Command } from 'commander';

// Placeholder until the command lands; replaced by its owner.
export function registerInspectWindow(program: Command): void {
  program.command('inspect-window').description('(coming soon)').action(() => {
    throw new Error('vidx inspect-window is not built yet');
  });
}
