/**
 * Runs tasks one at a time per key: a task waits for every earlier task holding any of its keys.
 * All of a task's keys are taken at once, so two tasks with overlapping keys never deadlock.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const before = unique.map((k) => this.tails.get(k) ?? Promise.resolve());
    let release!: () => void;
    const mine = new Promise<void>((res) => (release = res));
    for (const k of unique) this.tails.set(k, mine);
    try {
      await Promise.all(before);
      return await task();
    } finally {
      release();
      for (const k of unique) if (this.tails.get(k) === mine) this.tails.delete(k);
    }
  }

  /** Keys with a task running or waiting (tests). */
  get size(): number {
    return this.tails.size;
  }
}
