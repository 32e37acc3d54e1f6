/**
 * What unpickled Python objects become. Plain data maps onto JS: None -> null, bool, int ->
 * number (bigint beyond 2^53), float -> number, str -> string, bytes -> Uint8Array,
 * list and tuple -> Array, dict -> Map (keys of any type, insertion order kept), set -> Set.
 * Objects of classes the reader does not rebuild stay inert records; nothing is ever executed.
 */

/** A reference to a Python global (class or function) that was named but is not rebuilt. */
export class PickledGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An object of a class the reader does not rebuild (a config object, a pickled module...):
 * its class name, the constructor arguments and state the pickle recorded, never run.
 */
export class PickledObject {
  state: unknown = undefined;
  /** Items set on a dict subclass (SETITEMS on the object). */
  dictItems: Map<unknown, unknown> | undefined;
  /** Items appended to a list subclass (APPENDS on the object). */
  listItems: unknown[] | undefined;

  constructor(
    readonly __class__: string,
    readonly args: unknown[],
  ) {}
}

/** A global the reader rebuilds itself: a pure data constructor implemented here, in JS. */
export interface PickleCallable {
  readonly kind: 'callable';
  readonly qualifiedName: string;
  call(args: unknown[]): unknown;
}

export function isPickleCallable(v: unknown): v is PickleCallable {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'callable';
}

/** An object rebuilt here that accepts BUILD (Python's __setstate__), e.g. a numpy dtype. */
export interface PickleBuildable {
  setState(state: unknown): void;
}

export function isPickleBuildable(v: unknown): v is PickleBuildable {
  return typeof v === 'object' && v !== null && typeof (v as { setState?: unknown }).setState === 'function';
}

/** A short description of a value's type for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `a list/tuple of ${v.length}`;
  if (v instanceof Map) return 'a dict';
  if (v instanceof Set) return 'a set';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PickledObject) return `a ${v.__class__} object`;
  if (v instanceof PickledGlobal) return `the global ${v.qualifiedName}`;
  if (isPickleCallable(v)) return `the global ${v.qualifiedName}`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
