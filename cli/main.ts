import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isVidxError } from '../core/errors.ts';

type Register = (program: Command) => void;

// Each command module only declares its options; the heavy modules (onnxruntime, the AWS SDK,
// the emulators, the model builders) load inside its action. So help, which loads every module,
// stays fast, and `vidx search` never pays for the local stack.
const COMMANDS: Record<string, () => Promise<Register>> = {
  local: async () => (await import('./commands/local.ts')).registerLocal,
  upload: async () => (await import('./commands/upload.ts')).registerUpload,
  videos: async () => (await import('./commands/videos.ts')).registerVideos,
  search: async () => (await import('./commands/search.ts')).registerSearch,
  export: async () => (await import('./commands/export.ts')).registerExport,
  reindex: async () => (await import('./commands/reindex.ts')).registerReindex,
  analyze: async () => (await import('./commands/analyze.ts')).registerAnalyze,
  embed: async () => (await import('./commands/embed.ts')).registerEmbed,
  models: async () => (await import('./commands/models.ts')).registerModels,
  doctor: async () => (await import('./commands/doctor.ts')).registerDoctor,
  'inspect-window': async () => (await import('./commands/inspect-window.ts')).registerInspectWindow,
};

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('vidx')
  .description('vidx: find actions in video with SlowFast / I3D, on AWS or on this machine')
  .version(version, '-V, --version', 'print the version')
  .exitOverride();

const requested = process.argv[2];
const names = requested !== undefined && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
for (const name of names) (await COMMANDS[name]!())(program);

/** After a usage error: one line naming the help to read, not the whole help. */
function pointAtHelp(cmd: Command, path: string): void {
  cmd.showHelpAfterError(`(see \`${path} --help\`)`).exitOverride();
  for (const sub of cmd.commands) pointAtHelp(sub, `${path} ${sub.name()}`);
}
pointAtHelp(program, 'vidx');

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
