/**
 * The one error type vidx raises on purpose. `code` is stable (scripts, API clients and
 * tests match on it); `message` is for a person and says what is wrong; `hint` says what to do.
 * Codes are UPPER_SNAKE strings declared next to the module that raises them.
 */
export class VidxError extends Error {
  override readonly name = 'VidxError';
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }

  /** One line for a terminal: message, then what to do. */
  describe(): string {
    return this.hint ? `${this.message}\n  -> ${this.hint}` : this.message;
  }
}

export function isVidxError(e: unknown, code?: string): e is VidxError {
  return e instanceof VidxError && (code === undefined || e.code === code);
}
