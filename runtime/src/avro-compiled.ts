import type avro from 'avsc';
import { parts, type TypeParts } from './avro-type-parts.js';

/**
 * An encoder and a decoder of one schema, written as JavaScript from its structure, as the frame
 * check is. avsc reads and writes each field through its type object (a call for the union, one for
 * its branch, one for the Tap); a sample has about 150 nullable fields, so that was 9 µs to decode
 * and 9 to encode one, where this code, a field inline each, takes 4 and 6. The bytes are avsc's:
 * the tests compare both on every stream, and avsc stays the codec of every other writer schema.
 */
export interface CompiledCodec {
  /**
   * Writes the body of `record` into `out` from `offset` and returns where it ends, or -1 when `out`
   * is too small (nothing else is changed then but bytes of `out` past `offset`). Throws, as avsc
   * does, on a value its field's type cannot hold.
   */
  encode(record: unknown, out: Buffer, offset: number): number;
  /**
   * Reads a body that the frame check of this same schema passed: every count, length and index
   * in it fits. Throws on bytes left over, as avsc does.
   */
  decode(body: Buffer): unknown;
}

/** avsc's bound on a long it writes (isSafeLong). */
const SAFE_LONG = 9007199254740990;

/** The helpers the generated code calls; `p` is the position both share. */
const RUNTIME = `
let p = 0;
let b;
/** A view of b, for its doubles: a DataView's reads and writes are inlined, Buffer's double methods are calls. */
let view;
function invalid(path, v) {
  throw new Error('invalid ' + path + ': ' + (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? (Array.isArray(v) ? 'an array' : 'an object') : String(v)));
}
function readLong() {
  let x = b[p++];
  if (x < 0x80) return (x >>> 1) ^ -(x & 1);
  let n = x & 0x7f;
  let k = 7;
  do {
    x = b[p++];
    n |= (x & 0x7f) << k;
    k += 7;
  } while (x >= 0x80 && k < 28);
  if (x < 0x80) return (n >> 1) ^ -(n & 1);
  let f = n;
  let fk = 268435456;
  do {
    x = b[p++];
    f += (x & 0x7f) * fk;
    fk *= 128;
  } while (x >= 0x80);
  return (f % 2 ? -(f + 1) : f) / 2;
}
function skipLong() {
  while (b[p++] >= 0x80);
}
/**
 * Short ASCII strings seen before, by a hash of their bytes. Most strings of a stream repeat (host
 * names, UUIDs, models, drivers), and making each anew in C++ was a third of a sample's decode. A
 * hit is compared byte for byte; the cache is emptied when full, so hostile input only misses.
 */
const STRINGS = new Map();
const MAX_STRINGS = 8192;
function readString() {
  const n = readLong();
  const end = p + n;
  if (n > 64) {
    const s = b.utf8Slice(p, end);
    p = end;
    return s;
  }
  let h = n;
  for (let i = p; i < end; i++) h = Math.imul(h ^ b[i], 16777619);
  let s = STRINGS.get(h);
  if (s === undefined || !sameAscii(s, p, end)) {
    s = b.utf8Slice(p, end);
    if (s.length === n) {
      if (STRINGS.size === MAX_STRINGS) STRINGS.clear();
      STRINGS.set(h, s);
    }
  }
  p = end;
  return s;
}
/** Whether s is the bytes [from, end) of b read as ASCII: no character of a decoded string equals a byte 0x80 or above, so a match is ASCII throughout. */
function sameAscii(s, from, end) {
  if (s.length !== end - from) return false;
  for (let i = from, k = 0; i < end; i++, k++) if (s.charCodeAt(k) !== b[i]) return false;
  return true;
}
function readBytes() {
  const n = readLong();
  const out = Buffer.allocUnsafe(n);
  b.copy(out, 0, p, p + n);
  p += n;
  return out;
}
function skipLength() {
  // Not "p += readLong()": that adds to the position as it was before the length was read.
  const n = readLong();
  p += n;
}
/** A block's count, its byte size (when announced) read past. */
function blockCount() {
  const c = readLong();
  if (c >= 0) return c;
  skipLong();
  return -c;
}
function room(k) {
  if (p + k > b.length) throw ROOM;
}
const ROOM = new Error('no room');
function writeLong(v) {
  room(10);
  if (v >= -1073741824 && v < 1073741824) {
    let m = v >= 0 ? v << 1 : (~v << 1) | 1;
    while (m > 0x7f) {
      b[p++] = (m & 0x7f) | 0x80;
      m >>>= 7;
    }
    b[p++] = m;
  } else {
    let f = v >= 0 ? v * 2 : (-v * 2) - 1;
    while (f >= 128) {
      b[p++] = (f & 0x7f) | 0x80;
      f /= 128;
    }
    b[p++] = f & 0x7f;
  }
}
function writeString(v) {
  const length = v.length;
  if (length < 64) {
    // Written as ASCII in one pass behind a one-byte length (zigzag of under 64); back to Node's encoder at the first other character.
    room(1 + length);
    const start = p;
    b[p++] = length << 1;
    for (let i = 0; i < length; i++) {
      const c = v.charCodeAt(i);
      if (c >= 0x80) {
        p = start;
        return writeUtf8(v);
      }
      b[p++] = c;
    }
    return;
  }
  writeUtf8(v);
}
function writeUtf8(v) {
  const n = Buffer.byteLength(v);
  writeLong(n);
  room(n);
  p += b.utf8Write(v, p, n);
}
function writeBytes(v) {
  writeLong(v.length);
  room(v.length);
  p += v.copy(b, p);
}
function writeDouble(v) {
  room(8);
  view.setFloat64(p, v, true);
  p += 8;
}
`;

/** The union branch a value goes to, by what avsc calls its bucket (getValueBucket). */
function bucketTest(type: avro.Type, v: string): string {
  const t = parts(type);
  switch (t.typeName) {
    case 'null': return `${v} === null`;
    case 'boolean': return `typeof ${v} === 'boolean'`;
    case 'int': case 'long': case 'float': case 'double': return `typeof ${v} === 'number'`;
    case 'string': case 'enum': return `typeof ${v} === 'string'`;
    case 'bytes': case 'fixed': return `Buffer.isBuffer(${v})`;
    case 'array': return `Array.isArray(${v})`;
    case 'map': case 'record': case 'error':
      return `typeof ${v} === 'object' && ${v} !== null && !Array.isArray(${v}) && !Buffer.isBuffer(${v})`;
    default:
      if (t.underlyingType !== undefined) return bucketTest(t.underlyingType, v);
      throw new Error(`no compiled Avro codec for a union branch of type ${t.typeName}`);
  }
}

class Generator {
  readonly functions: string[] = [];
  /** Constants the code refers to by index: enum symbols, their indexes, field defaults. */
  readonly constants: unknown[] = [];
  private readonly readers = new Map<avro.Type, string>();
  private readonly writers = new Map<avro.Type, string>();
  private readonly skippers = new Map<avro.Type, string>();
  private variables = 0;

  private constant(value: unknown): string {
    this.constants.push(value);
    return `C[${this.constants.length - 1}]`;
  }

  private variable(prefix: string): string {
    return `${prefix}${this.variables++}`;
  }

  /** An expression that reads one value of `type` at `p`. */
  read(type: avro.Type, leaveOut: ReadonlySet<string> = new Set()): string {
    const t = parts(type);
    switch (t.typeName) {
      case 'null': return 'null';
      case 'boolean': return '(b[p++] !== 0)';
      case 'int': case 'long': return 'readLong()';
      case 'double': return '(p += 8, view.getFloat64(p - 8, true))';
      case 'float': return '(p += 4, view.getFloat32(p - 4, true))';
      case 'string': return 'readString()';
      case 'bytes': return 'readBytes()';
      case 'enum': return `${this.constant(t.symbols)}[readLong()]`;
      case 'array': return `${this.collection(type, t.itemsType!, false)}()`;
      case 'map': return `${this.collection(type, t.valuesType!, true)}()`;
      case 'record': case 'error': return `${this.record(type, t, leaveOut)}()`;
      default:
        if (t.types !== undefined) {
          // The frame check let through only the indexes of these branches, one byte each.
          if (t.types.length === 2) return `(b[p++] === 0 ? ${this.read(t.types[0]!)} : ${this.read(t.types[1]!)})`;
          return `${this.union(type, t.types)}()`;
        }
        if (t.underlyingType !== undefined) return this.read(t.underlyingType);
        throw new Error(`no compiled Avro codec for type ${t.typeName}`);
    }
  }

  /** Statements that move `p` over one value of `type`. */
  skip(type: avro.Type): string {
    const t = parts(type);
    switch (t.typeName) {
      case 'null': return '';
      case 'boolean': return 'p++;\n';
      case 'int': case 'long': case 'enum': return 'skipLong();\n';
      case 'double': return 'p += 8;\n';
      case 'float': return 'p += 4;\n';
      case 'string': case 'bytes': return 'skipLength();\n';
      case 'array': case 'map': case 'record': case 'error': return `${this.skipper(type, t)}();\n`;
      default:
        if (t.types !== undefined) {
          // As read: the frame check let through only these branches' indexes, one byte each.
          const cases = t.types.map((branch, k) => `case ${2 * k}: ${this.skip(branch)}break;\n`).join('');
          return `switch (b[p++]) {\n${cases}}\n`;
        }
        if (t.underlyingType !== undefined) return this.skip(t.underlyingType);
        throw new Error(`no compiled Avro codec for type ${t.typeName}`);
    }
  }

  /** Statements that write `v` (an expression without side effects) as `type`, or throw naming `path`. */
  write(type: avro.Type, v: string, path: string): string {
    const t = parts(type);
    const refuse = `invalid(${JSON.stringify(path)}, ${v})`;
    switch (t.typeName) {
      case 'null': return `if (${v} !== null) ${refuse};\n`;
      case 'boolean': return `if (typeof ${v} !== 'boolean') ${refuse};\nroom(1);\nb[p++] = ${v} ? 1 : 0;\n`;
      case 'int': return `if (${v} !== (${v} | 0)) ${refuse};\nwriteLong(${v});\n`;
      case 'long': return `if (typeof ${v} !== 'number' || ${v} % 1 || !(${v} >= -${SAFE_LONG} && ${v} <= ${SAFE_LONG})) ${refuse};\nwriteLong(${v});\n`;
      case 'double': return `if (typeof ${v} !== 'number') ${refuse};\nwriteDouble(${v});\n`;
      case 'string': return `if (typeof ${v} !== 'string') ${refuse};\nwriteString(${v});\n`;
      case 'bytes': return `if (!Buffer.isBuffer(${v})) ${refuse};\nwriteBytes(${v});\n`;
      case 'enum': {
        const index = this.constant(new Map(t.symbols!.map((symbol, k) => [symbol, k])));
        const i = this.variable('e');
        return `const ${i} = ${index}.get(${v});\nif (${i} === undefined) ${refuse};\nwriteLong(${i});\n`;
      }
      case 'array': return `if (!Array.isArray(${v})) ${refuse};\n${this.writer(type, t, path)}(${v});\n`;
      case 'map': return `if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) ${refuse};\n${this.writer(type, t, path)}(${v});\n`;
      case 'record': case 'error': return `${this.writer(type, t, path)}(${v});\n`;
      default:
        if (t.types !== undefined) {
          // A branch index under 64 is one byte, its zigzag: written here, not by a call per nullable field.
          const index = (k: number): string => (k < 64 ? `room(1);\nb[p++] = ${2 * k};\n` : `writeLong(${k});\n`);
          const branches = t.types.map((branch, k) => `${k === 0 ? '' : 'else '}if (${bucketTest(branch, v)}) {\n${index(k)}${this.write(branch, v, path)}}\n`).join('');
          return `${branches}else ${refuse};\n`;
        }
        if (t.underlyingType !== undefined) return this.write(t.underlyingType, v, path);
        throw new Error(`no compiled Avro codec for type ${t.typeName}`);
    }
  }

  private record(type: avro.Type, t: TypeParts, leaveOut: ReadonlySet<string>): string {
    const known = leaveOut.size === 0 ? this.readers.get(type) : undefined;
    if (known !== undefined) return known;
    const name = this.variable('read');
    if (leaveOut.size === 0) this.readers.set(type, name);
    const kept: string[] = [];
    const statements = t.fields!.map((f) => {
      if (leaveOut.has(f.name)) return this.skip(f.type);
      const variable = this.variable('f');
      kept.push(`${JSON.stringify(f.name)}: ${variable}`);
      return `const ${variable} = ${this.read(f.type)};\n`;
    });
    // Fields are read in order into locals, then built as one literal: one shape for every record of the type.
    this.functions.push(`function ${name}() {\n${statements.join('')}return { ${kept.join(', ')} };\n}\n`);
    return name;
  }

  private collection(type: avro.Type, item: avro.Type, keyed: boolean): string {
    const known = this.readers.get(type);
    if (known !== undefined) return known;
    const name = this.variable('read');
    this.readers.set(type, name);
    const value = this.read(item);
    this.functions.push(keyed
      ? `function ${name}() {\nconst o = {};\nfor (let c = blockCount(); c !== 0; c = blockCount()) {\nfor (let k = 0; k < c; k++) {\nconst key = readString();\no[key] = ${value};\n}\n}\nreturn o;\n}\n`
      : `function ${name}() {\nconst a = [];\nfor (let c = blockCount(); c !== 0; c = blockCount()) {\nfor (let k = 0; k < c; k++) a.push(${value});\n}\nreturn a;\n}\n`);
    return name;
  }

  private union(type: avro.Type, types: avro.Type[]): string {
    const known = this.readers.get(type);
    if (known !== undefined) return known;
    const name = this.variable('read');
    this.readers.set(type, name);
    // As the two-branch read: the frame check let through only these branches' indexes, one byte each.
    const cases = types.map((branch, k) => `case ${2 * k}: return ${this.read(branch)};\n`).join('');
    this.functions.push(`function ${name}() {\nswitch (b[p++]) {\n${cases}}\n}\n`);
    return name;
  }

  private skipper(type: avro.Type, t: TypeParts): string {
    const known = this.skippers.get(type);
    if (known !== undefined) return known;
    const name = this.variable('skip');
    this.skippers.set(type, name);
    const body = t.fields !== undefined
      ? t.fields.map((f) => this.skip(f.type)).join('')
      : `for (let c = readLong(); c !== 0; c = readLong()) {\nif (c < 0) {\nskipLength();\ncontinue;\n}\nfor (let k = 0; k < c; k++) {\n${t.valuesType !== undefined ? 'skipLength();\n' : ''}${this.skip(t.valuesType ?? t.itemsType!)}}\n}\n`;
    this.functions.push(`function ${name}() {\n${body}}\n`);
    return name;
  }

  private writer(type: avro.Type, t: TypeParts, path: string): string {
    const known = this.writers.get(type);
    if (known !== undefined) return known;
    const name = this.variable('write');
    this.writers.set(type, name);
    let body: string;
    if (t.fields !== undefined) {
      body = t.fields.map((f) => {
        const v = this.variable('v');
        const fallback = f.defaultValue();
        // A field left undefined takes its default, as avsc's record writer does.
        const value = fallback === undefined ? `r[${JSON.stringify(f.name)}]` : `r[${JSON.stringify(f.name)}] === undefined ? ${this.constant(fallback)} : r[${JSON.stringify(f.name)}]`;
        return `const ${v} = ${value};\n${this.write(f.type, v, path === '' ? f.name : `${path}.${f.name}`)}`;
      }).join('');
      body = `if (typeof r !== 'object' || r === null) invalid(${JSON.stringify(path || 'record')}, r);\n${body}`;
    } else if (t.itemsType !== undefined) {
      body = `if (r.length !== 0) {\nwriteLong(r.length);\nfor (let k = 0; k < r.length; k++) {\nconst item = r[k];\n${this.write(t.itemsType, 'item', `${path}[]`)}}\n}\nwriteLong(0);\n`;
    } else {
      body = `const keys = Object.keys(r);\nif (keys.length !== 0) {\nwriteLong(keys.length);\nfor (const key of keys) {\nwriteString(key);\nconst value = r[key];\n${this.write(t.valuesType!, 'value', `${path}{}`)}}\n}\nwriteLong(0);\n`;
    }
    this.functions.push(`function ${name}(r) {\n${body}}\n`);
    return name;
  }
}

/** The codec of bodies written with `type` (the schema this build ships); `leaveOut`: top-level fields the decoder skips. */
export function compileCodec(type: avro.Type, leaveOut: ReadonlySet<string> = new Set()): CompiledCodec {
  const generator = new Generator();
  const read = generator.read(type, leaveOut);
  const write = generator.write(type, 'record', '');
  const source = `${RUNTIME}${generator.functions.join('')}
return {
  encode(record, out, offset) {
    b = out;
    view = new DataView(out.buffer, out.byteOffset, out.length);
    p = offset;
    try {
      ${write}
    } catch (error) {
      if (error === ROOM) return -1;
      throw error;
    } finally {
      b = undefined;
      view = undefined;
    }
    return p;
  },
  decode(body) {
    b = body;
    view = new DataView(body.buffer, body.byteOffset, body.length);
    p = 0;
    try {
      const value = ${read};
      if (p !== body.length) throw new Error(p > body.length ? 'truncated buffer' : 'trailing data');
      return value;
    } finally {
      b = undefined;
      view = undefined;
    }
  },
};
`;
  // Safe to compile: generated from the schema's structure only: field names as JSON strings, constants by index
  return new Function('C', source)(generator.constants) as CompiledCodec;
}
