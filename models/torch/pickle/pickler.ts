import { Op } from './opcodes.ts';

/** `module.name` itself (a class), written as GLOBAL. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** `module.name(*args)`, then `obj[k] = v` for each dict item: GLOBAL, args, REDUCE, SETITEMS. */
export class PyCall {
  constructor(
    readonly fn: PyGlobal,
    readonly args: readonly PyValue[],
    readonly dictItems?: ReadonlyMap<PyValue, PyValue>,
  ) {}
}

/** An object built without calling anything: GLOBAL cls, (), NEWOBJ, then BUILD with `state` (TorchScript modules). */
export class PyObject {
  constructor(
    readonly cls: PyGlobal,
    readonly state: PyValue,
  ) {}
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** A persistent id: the unpickler asks its owner for the object (torch: a storage). */
export class PyPersistent {
  constructor(readonly pid: PyTuple) {}
}

/** What the pickler writes. Arrays are lists, Maps are dicts, Uint8Array is bytes. */
export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly PyValue[]
  | ReadonlyMap<PyValue, PyValue>
  | PyGlobal
  | PyCall
  | PyTuple
  | PyObject
  | PyPersistent;

/** Items per APPENDS/SETITEMS, as CPython batches them. */
const BATCH = 1000;

/** A growable byte buffer. */
class ByteSink {
  private buffer = Buffer.allocUnsafe(4096);
  private length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + n));
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // reserve() may replace this.buffer, so it runs before this.buffer is read.
  u8(v: number): void {
    const at = this.reserve(1);
    this.buffer[at] = v;
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.buffer.writeUInt16LE(v, at);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeUInt32LE(v, at);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.buffer.writeInt32LE(v, at);
  }
  f64be(v: number): void {
    const at = this.reserve(8);
    this.buffer.writeDoubleBE(v, at);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buffer.set(b, at);
  }
  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}

function encodeLong(v: bigint): Buffer {
  const bytes: number[] = [];
  let x = v;
  // Little-endian two's complement, shortest form that keeps the sign.
  for (;;) {
    const byte = Number(x & 0xffn);
    bytes.push(byte);
    x >>= 8n;
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

/**
 * Writes one pickle (protocol 2, what torch.save uses). Globals are memoized so each is named
 * once. Throws `invalid(why)` for values it cannot write (undefined, cycles, functions...).
 */
export function pickle(value: PyValue, invalid: (why: string) => Error): Buffer {
  const out = new ByteSink();
  const memo = new Map<string, number>();
  const open = new Set<object>();

  const writeInt = (v: bigint): void => {
    if (v >= 0n && v < 0x100n) {
      out.u8(Op.BININT1);
      out.u8(Number(v));
    } else if (v >= 0n && v < 0x10000n) {
      out.u8(Op.BININT2);
      out.u16(Number(v));
    } else if (v >= -0x80000000n && v < 0x80000000n) {
      out.u8(Op.BININT);
      out.i32(Number(v));
    } else {
      const bytes = encodeLong(v);
      if (bytes.length > 255) throw invalid(`integer ${v} is too large`);
      out.u8(Op.LONG1);
      out.u8(bytes.length);
      out.bytes(bytes);
    }
  };
  const writeString = (s: string): void => {
    const bytes = Buffer.from(s, 'utf8');
    out.u8(Op.BINUNICODE);
    out.u32(bytes.length);
    out.bytes(bytes);
  };
  const writeGlobal = (g: PyGlobal): void => {
    const key = `${g.module}\n${g.name}`;
    const index = memo.get(key);
    if (index !== undefined) {
      out.u8(Op.LONG_BINGET);
      out.u32(index);
      return;
    }
    out.u8(Op.GLOBAL);
    out.bytes(Buffer.from(`${key}\n`, 'utf8'));
    out.u8(Op.LONG_BINPUT);
    out.u32(memo.size);
    memo.set(key, memo.size);
  };
  const writeTuple = (items: readonly PyValue[]): void => {
    const short = [Op.EMPTY_TUPLE, Op.TUPLE1, Op.TUPLE2, Op.TUPLE3][items.length];
    if (short === undefined) out.u8(Op.MARK);
    items.forEach(write);
    out.u8(short ?? Op.TUPLE);
  };
  const writeItems = (items: Iterable<readonly [PyValue, PyValue]>): void => {
    let batch: (readonly [PyValue, PyValue])[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      out.u8(Op.MARK);
      for (const [k, v] of batch) {
        write(k);
        write(v);
      }
      out.u8(Op.SETITEMS);
      batch = [];
    };
    for (const item of items) {
      batch.push(item);
      if (batch.length === BATCH) flush();
    }
    flush();
  };
  const guard = (container: object, body: () => void): void => {
    if (open.has(container)) throw invalid('the value refers to itself (a cycle)');
    open.add(container);
    body();
    open.delete(container);
  };

  function write(v: PyValue): void {
    if (v === null) out.u8(Op.NONE);
    else if (typeof v === 'boolean') out.u8(v ? Op.NEWTRUE : Op.NEWFALSE);
    else if (typeof v === 'bigint') writeInt(v);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) writeInt(BigInt(v));
      else {
        out.u8(Op.BINFLOAT);
        out.f64be(v);
      }
    } else if (typeof v === 'string') writeString(v);
    else if (v instanceof Uint8Array) {
      // Protocol 2 has no bytes opcode; Python 3 writes _codecs.encode(latin-1 text, 'latin1').
      write(new PyCall(new PyGlobal('_codecs', 'encode'), [Buffer.from(v).toString('latin1'), 'latin1']));
    } else if (v instanceof PyGlobal) writeGlobal(v);
    else if (v instanceof PyTuple) guard(v, () => writeTuple(v.items));
    else if (v instanceof PyPersistent) {
      write(v.pid);
      out.u8(Op.BINPERSID);
    } else if (v instanceof PyObject) {
      guard(v, () => {
        writeGlobal(v.cls);
        out.u8(Op.EMPTY_TUPLE);
        out.u8(Op.NEWOBJ);
        write(v.state);
        out.u8(Op.BUILD);
      });
    } else if (v instanceof PyCall) {
      guard(v, () => {
        writeGlobal(v.fn);
        writeTuple(v.args);
        out.u8(Op.REDUCE);
        if (v.dictItems !== undefined) writeItems(v.dictItems);
      });
    } else if (Array.isArray(v)) {
      guard(v, () => {
        out.u8(Op.EMPTY_LIST);
        for (let i = 0; i < v.length; i += BATCH) {
          out.u8(Op.MARK);
          (v as PyValue[]).slice(i, i + BATCH).forEach(write);
          out.u8(Op.APPENDS);
        }
      });
    } else if (v instanceof Map) {
      guard(v, () => {
        out.u8(Op.EMPTY_DICT);
        writeItems(v);
      });
    } else throw invalid(`cannot pickle ${typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v}`);
  }

  out.u8(Op.PROTO);
  out.u8(2);
  write(value);
  out.u8(Op.STOP);
  return out.toBuffer();
}
