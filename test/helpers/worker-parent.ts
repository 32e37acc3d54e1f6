/**
 * A stand-in for `vidx local` in tests: starts the supervised worker child (cli/local/worker-process.ts)
 * with this process's environment and prints `READY <child pid>`, then waits to be killed.
 */
import { startWorkerProcess } from '../../cli/local/worker-process.ts';

const worker = await startWorkerProcess({ env: process.env, killAfterSeconds: 30, say: (m) => process.stderr.write(`${m}\n`) });
process.stdout.write(`READY ${worker.supervision().pid}\n`);
setInterval(() => undefined, 60_000);
