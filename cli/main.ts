import { Command, CommanderError } from 'commander';
import { isVidxError } from '../core/errors.ts';

type Register = (program: Command) => void;

// Each command pulls in heavy modules (onnxruntime, the AWS SDK, the emulators); load only the
// one being run so `vidx search` does not pay for the local stack. Help loads them all.
const COMMANDS: Record<string, () => Promise<Register>> = {
  models: async () => (await import('./commands/models.ts')).registerModels,
  analyze: async () => (await import('./commands/analyze.ts')).registerAnalyze,
  'inspect-window': async () => (await import('./commands/inspect-window.ts')).registerInspectWindow,
  local: async () => (await import('./commands/local.ts')).registerLocal,
  upload: async () => (await import('./commands/upload.ts')).registerUpload,
  search: async () => (await import('./commands/search.ts')).registerSearch,
  export: async () => (await import('./commands/export.ts')).registerExport,
  reindex: async () => (await import('./commands/reindex.ts')).registerReindex,
  embed: async () => (await import('./commands/embed.ts')).registerEmbed,
};

const program = new Command('vidx')
  .description('vidx: find actions in video with SlowFast / I3D, on AWS or on this machine')
  .showHelpAfterError()
  .exitOverride();

const requested = process.argv[2];
const names = requested !== undefined && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
for (const name of names) (await COMMANDS[name]!())(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (isVidxError(e)) {
    process.stderr.write(`vidx: ${e.describe()}\n`);
    process.exit(1);
  }
  throw e;
}
