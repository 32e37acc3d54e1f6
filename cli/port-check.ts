/** Whether a TCP port can be listened on (vidx local, vidx doctor): a listen and close, nothing kept. */
import { createServer } from 'node:net';
import { VidxError } from '../core/errors.ts';

export async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' || e.code === 'EACCES' ? resolve(false) : reject(e)));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export function portInUse(port: number, host = '127.0.0.1', cause?: unknown): VidxError {
  return new VidxError('PORT_IN_USE', `port ${port} on ${host} is already in use`, {
    hint: `stop what listens there (another \`vidx local\`? see \`curl http://${host}:${port}/_local/health\`), or pass --port <another>`,
    cause,
  });
}

/** Throws PORT_IN_USE when `port` is taken (port 0 = any free port: never taken). */
export async function checkPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  if (port !== 0 && !(await portFree(port, host))) throw portInUse(port, host);
}
