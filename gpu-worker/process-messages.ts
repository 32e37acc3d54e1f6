/** What the worker process (main.ts) tells the parent that forked it (`vidx local`) over IPC. */
export type WorkerProcessMessage =
  | { type: 'ready' }
  /** The answer to the parent's `{ type: 'status' }`: ClipWorker.status(). */
  | { type: 'status'; status: unknown };
