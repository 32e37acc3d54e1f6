import { checkpointError, CheckpointError } from '../errors.ts';
import type { ByteCursor } from '../byte-cursor.ts';
import { HIGHEST_PROTOCOL, Op } from './opcodes.ts';
import { PickledGlobal, PickledObject, describeValue, isPickleBuildable, isPickleCallable } from './values.ts';

/**
 * What the unpickler asks its caller. The unpickler itself never imports or runs anything:
 * every global is a name handed to `resolveGlobal`, which returns a JS stand-in or throws.
 */
export interface UnpicklePolicy {
  /** GLOBAL, STACK_GLOBAL, INST: a stand-in for `module.name`, or throw to refuse the file. */
  resolveGlobal(module: string, name: string): unknown;
  /** PERSID, BINPERSID: the object an out-of-band id stands for (torch storages). */
  persistentLoad(pid: unknown): unknown;
  /** REDUCE/NEWOBJ/INST/OBJ on a class that is not rebuilt: an inert record, or throw. */
  instantiate(cls: PickledGlobal, args: unknown[], how: 'reduce' | 'newobj'): unknown;
}

/** Python ints: JS numbers while exact, bigint beyond. */
export function pyInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Longest LONG1/LONG4 payload accepted; torch never writes more than a few bytes. */
const MAX_LONG_BYTES = 4096;

function decodeLong(bytes: Buffer): number | bigint {
  if (bytes.length === 0) return 0;
  let v = BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
  if ((bytes[bytes.length - 1] as number) & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return pyInt(v);
}

/** The quoted repr of a Python 2 str, as protocol 0's STRING writes it. */
function decodeStringLiteral(text: string, fail: (why: string) => never): string {
  const quote = text[0];
  if (text.length < 2 || (quote !== "'" && quote !== '"') || text[text.length - 1] !== quote) fail('STRING argument is not quoted');
  const body = text.slice(1, -1);
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_m, esc: string) =>
    esc.startsWith('x') && esc.length === 3 ? String.fromCharCode(parseInt(esc.slice(1), 16)) : (simple[esc] ?? `\\${esc}`),
  );
}

/** Python's raw-unicode-escape, as protocol 0's UNICODE writes it. */
function decodeRawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4?: string, u8?: string) =>
    String.fromCodePoint(parseInt((u4 ?? u8) as string, 16)),
  );
}

/**
 * Runs the pickle machine from the cursor's position to STOP and returns the object. The
 * cursor is left just after STOP, where a following pickle (legacy torch format) starts.
 */
export function unpickle(cursor: ByteCursor, policy: UnpicklePolicy): unknown {
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  let opStart = cursor.offset;

  const fail = (why: string): never => {
    throw checkpointError(CheckpointError.FORMAT, `${cursor.what}: malformed pickle at byte ${opStart}: ${why}`);
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = metastack.pop();
    if (previous === undefined) fail('no MARK to pop to');
    stack = previous as unknown[];
    return items;
  };
  const memoGet = (index: number): unknown => {
    if (!memo.has(index)) fail(`memo entry ${index} was never stored`);
    return memo.get(index);
  };
  const memoPut = (index: number): void => {
    memo.set(index, top());
  };
  const toString = (v: unknown, what: string): string => (typeof v === 'string' ? v : fail(`${what} must be a string, got ${describeValue(v)}`));
  const toArgs = (v: unknown): unknown[] => (Array.isArray(v) ? v : fail(`expected an argument tuple, got ${describeValue(v)}`));

  const call = (callable: unknown, args: unknown[], how: 'reduce' | 'newobj'): unknown => {
    if (isPickleCallable(callable)) return callable.call(args);
    if (callable instanceof PickledGlobal) return policy.instantiate(callable, args, how);
    return fail(`cannot call ${describeValue(callable)}`);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    let map: Map<unknown, unknown>;
    if (target instanceof Map) map = target;
    else if (target instanceof PickledObject) map = target.dictItems ??= new Map();
    else return void fail(`cannot set items on ${describeValue(target)}`);
    for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (Array.isArray(target)) {
      for (const item of items) target.push(item);
    } else if (target instanceof PickledObject) {
      (target.listItems ??= []).push(...items);
    } else fail(`cannot append to ${describeValue(target)}`);
  };
  const addItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Set)) return void fail(`cannot add items to ${describeValue(target)}`);
    for (const item of items) target.add(item);
  };
  const build = (target: unknown, state: unknown): void => {
    if (target instanceof PickledObject) target.state = state;
    else if (isPickleBuildable(target)) target.setState(state);
    else if (target instanceof Map) {
      // Attributes on a dict (an OrderedDict state dict's `_metadata`: module versions). Not data we use.
    } else fail(`BUILD on ${describeValue(target)}`);
  };

  for (;;) {
    opStart = cursor.offset;
    const op = cursor.u8();
    switch (op) {
      case Op.PROTO: {
        const protocol = cursor.u8();
        if (protocol > HIGHEST_PROTOCOL) fail(`pickle protocol ${protocol} is newer than ${HIGHEST_PROTOCOL}`);
        break;
      }
      case Op.FRAME:
        cursor.u64(); // Frames only hint at buffering; the opcodes inside follow as usual.
        break;
      case Op.STOP: {
        if (metastack.length !== 0) fail('STOP inside an unclosed MARK');
        if (stack.length !== 1) fail(`STOP with ${stack.length} values on the stack`);
        return stack[0];
      }
      case Op.MARK:
        metastack.push(stack);
        stack = [];
        break;
      case Op.POP:
        if (stack.length > 0) stack.pop();
        else popMark(); // CPython: POP on an empty stack after MARK discards the mark
        break;
      case Op.POP_MARK:
        popMark();
        break;
      case Op.DUP:
        stack.push(top());
        break;

      // Constants and numbers
      case Op.NONE:
        stack.push(null);
        break;
      case Op.NEWTRUE:
        stack.push(true);
        break;
      case Op.NEWFALSE:
        stack.push(false);
        break;
      case Op.BININT:
        stack.push(cursor.i32());
        break;
      case Op.BININT1:
        stack.push(cursor.u8());
        break;
      case Op.BININT2:
        stack.push(cursor.u16());
        break;
      case Op.LONG1:
        stack.push(decodeLong(cursor.view(cursor.u8())));
        break;
      case Op.LONG4: {
        const n = cursor.i32();
        if (n < 0 || n > MAX_LONG_BYTES) fail(`LONG4 of ${n} bytes`);
        stack.push(decodeLong(cursor.view(n)));
        break;
      }
      case Op.BINFLOAT:
        stack.push(cursor.f64be());
        break;
      case Op.INT: {
        const text = cursor.line().trim();
        if (text === '01') stack.push(true);
        else if (text === '00') stack.push(false);
        else if (/^[+-]?\d+$/.test(text)) stack.push(pyInt(BigInt(text)));
        else fail(`INT argument ${JSON.stringify(text)}`);
        break;
      }
      case Op.LONG: {
        const text = cursor.line().trim().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(text)) fail(`LONG argument ${JSON.stringify(text)}`);
        stack.push(pyInt(BigInt(text)));
        break;
      }
      case Op.FLOAT: {
        const text = cursor.line().trim();
        const value = Number(text);
        if (Number.isNaN(value) && text.toLowerCase() !== 'nan') fail(`FLOAT argument ${JSON.stringify(text)}`);
        stack.push(value);
        break;
      }

      // Strings and bytes
      case Op.BINUNICODE:
        stack.push(cursor.utf8(cursor.u32()));
        break;
      case Op.SHORT_BINUNICODE:
        stack.push(cursor.utf8(cursor.u8()));
        break;
      case Op.BINUNICODE8:
        stack.push(cursor.utf8(cursor.u64()));
        break;
      case Op.UNICODE:
        stack.push(decodeRawUnicodeEscape(cursor.line()));
        break;
      // Python 2 str: torch.load decodes it as UTF-8 (its default encoding argument).
      case Op.BINSTRING: {
        const n = cursor.i32();
        if (n < 0) fail('BINSTRING with a negative length');
        stack.push(cursor.utf8(n));
        break;
      }
      case Op.SHORT_BINSTRING:
        stack.push(cursor.utf8(cursor.u8()));
        break;
      case Op.STRING:
        stack.push(decodeStringLiteral(cursor.line(), fail));
        break;
      case Op.BINBYTES:
        stack.push(new Uint8Array(cursor.view(cursor.u32())));
        break;
      case Op.SHORT_BINBYTES:
        stack.push(new Uint8Array(cursor.view(cursor.u8())));
        break;
      case Op.BINBYTES8:
      case Op.BYTEARRAY8:
        stack.push(new Uint8Array(cursor.view(cursor.u64())));
        break;

      // Containers
      case Op.EMPTY_TUPLE:
        stack.push([]);
        break;
      case Op.TUPLE:
        {
        const items = popMark(); // pop first: popMark replaces `stack`
        stack.push(items);
      }
        break;
      case Op.TUPLE1: {
        const a = pop();
        stack.push([a]);
        break;
      }
      case Op.TUPLE2: {
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case Op.TUPLE3: {
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case Op.EMPTY_LIST:
        stack.push([]);
        break;
      case Op.LIST:
        {
        const items = popMark(); // pop first: popMark replaces `stack`
        stack.push(items);
      }
        break;
      case Op.APPEND: {
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case Op.APPENDS: {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case Op.EMPTY_DICT:
        stack.push(new Map());
        break;
      case Op.DICT: {
        const map = new Map();
        setItems(map, popMark());
        stack.push(map);
        break;
      }
      case Op.SETITEM: {
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case Op.SETITEMS: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case Op.EMPTY_SET:
        stack.push(new Set());
        break;
      case Op.ADDITEMS: {
        const items = popMark();
        addItems(top(), items);
        break;
      }
      case Op.FROZENSET:
        {
        const items = popMark();
        stack.push(new Set(items));
      }
        break;

      // Memo
      case Op.BINPUT:
        memoPut(cursor.u8());
        break;
      case Op.LONG_BINPUT:
        memoPut(cursor.u32());
        break;
      case Op.PUT: {
        const text = cursor.line();
        if (!/^\d+$/.test(text)) fail(`PUT argument ${JSON.stringify(text)}`);
        memoPut(Number(text));
        break;
      }
      case Op.MEMOIZE:
        memoPut(memo.size);
        break;
      case Op.BINGET:
        stack.push(memoGet(cursor.u8()));
        break;
      case Op.LONG_BINGET:
        stack.push(memoGet(cursor.u32()));
        break;
      case Op.GET: {
        const text = cursor.line();
        if (!/^\d+$/.test(text)) fail(`GET argument ${JSON.stringify(text)}`);
        stack.push(memoGet(Number(text)));
        break;
      }

      // Globals and objects: resolved by the policy, never imported.
      case Op.GLOBAL: {
        const module = cursor.line();
        const name = cursor.line();
        stack.push(policy.resolveGlobal(module, name));
        break;
      }
      case Op.STACK_GLOBAL: {
        const name = toString(pop(), 'STACK_GLOBAL name');
        const module = toString(pop(), 'STACK_GLOBAL module');
        stack.push(policy.resolveGlobal(module, name));
        break;
      }
      case Op.REDUCE: {
        const args = toArgs(pop());
        const callable = pop();
        stack.push(call(callable, args, 'reduce'));
        break;
      }
      case Op.NEWOBJ: {
        const args = toArgs(pop());
        const cls = pop();
        stack.push(call(cls, args, 'newobj'));
        break;
      }
      case Op.NEWOBJ_EX: {
        const kwargs = pop();
        const args = toArgs(pop());
        const cls = pop();
        if (!(kwargs instanceof Map) || kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments');
        stack.push(call(cls, args, 'newobj'));
        break;
      }
      case Op.INST: {
        const module = cursor.line();
        const name = cursor.line();
        const args = popMark();
        stack.push(call(policy.resolveGlobal(module, name), args, 'newobj'));
        break;
      }
      case Op.OBJ: {
        const [cls, ...args] = popMark();
        stack.push(call(cls, args, 'newobj'));
        break;
      }
      case Op.BUILD: {
        const state = pop();
        build(top(), state);
        break;
      }
      case Op.BINPERSID:
        stack.push(policy.persistentLoad(pop()));
        break;
      case Op.PERSID:
        stack.push(policy.persistentLoad(cursor.line()));
        break;

      case Op.EXT1:
      case Op.EXT2:
      case Op.EXT4:
        throw checkpointError(CheckpointError.UNSUPPORTED, `${cursor.what}: pickle extension codes (EXT opcodes, byte ${opStart}) are not supported`);
      case Op.NEXT_BUFFER:
        throw checkpointError(CheckpointError.UNSUPPORTED, `${cursor.what}: out-of-band pickle buffers (byte ${opStart}) are not supported`);
      case Op.READONLY_BUFFER:
        break;
      default:
        fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }
}
