import { Command, CommanderError } from 'commander';
import { isVidxError } from '../core/errors.ts';
import { registerModels } from './commands/models.ts';
import { registerAnalyze } from './commands/analyze.ts';
import { registerInspectWindow } from './commands/inspect-window.ts';
import { registerLocal } from './commands/local.ts';
import { registerUpload } from './commands/upload.ts';
import { registerSearch } from './commands/search.ts';

const program = new Command('vidx')
  .description('vidx: find actions in video with SlowFast / I3D, on AWS or on this machine')
  .showHelpAfterError()
  .exitOverride();

registerModels(program);
registerAnalyze(program);
registerInspectWindow(program);
registerLocal(program);
registerUpload(program);
registerSearch(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (isVidxError(e)) {
    process.stderr.write(`vidx: ${e.describe()} [${e.code}]\n`);
    process.exit(1);
  }
  throw e;
}
