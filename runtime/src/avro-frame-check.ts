import type avro from 'avsc';
import { parts, type TypeParts } from './avro-type-parts.js';

/**
 * Walks an Avro body over its writer schema without building anything, and throws when a count or
 * length it announces cannot fit in the bytes left. avsc's array and map readers allocate per
 * announced item before they look at the buffer (one 1,252-byte record announcing 2×10⁸ items
 * ran every consumer out of memory), so a body is decoded only once this walk has passed: then
 * every item a decoder makes stands on at least one byte of the body, or on the zero-size-item
 * budget, and the compiled decoder (avro-compiled.ts) may read it without checks of its own.
 * Time and memory are proportional to the body's length, at any nesting depth.
 *
 * It answers whether every number it was given bounds of (a projection's left-out fields) lies
 * within them: a decoder that skips those values without building them still learns whether
 * validation would have refused one.
 */
export type FrameCheck = (body: Buffer) => boolean;

/** The range a number at one path (sample-bounds' paths: `features.x`, `processes[].pid`) may take. */
export type PathBounds = Readonly<Record<string, { min: number; max: number }>>;

/** What a walk carries between the functions of its records. */
interface Walk {
  p: number;
  /** Items of zero encoded size (nulls, empty records) still allowed: they cost no bytes, so they get a budget of their own. */
  zero: number;
  depth: number;
  /** Some bounded number lies outside its bounds (NaN included). */
  outside: boolean;
}

/** Deeper than any gpumon schema nests; only a recursive writer schema gets there, and the stack must not. */
const MAX_DEPTH = 64;
/** Unions up to this many branches have one-byte indexes (zigzag 2k < 0x80). */
const ONE_BYTE_UNION = 64;
/** A zigzag varint of a long is at most 10 bytes. */
const MAX_VARINT_BYTES = 10;

/** The helpers the generated code calls; `at` indexes the paths, for messages that name the field. */
function helpers(paths: string[]) {
  const fail = (p: number, n: number, at: number, what: string): never => {
    throw new Error(`${paths[at] || 'record'}: ${what} at byte ${p} of ${n}`);
  };
  /** A zigzag varint's value; beyond 2^53 approximate, still far more than any body holds. */
  const long = (b: Buffer, w: Walk, at: number): number => {
    const n = b.length;
    let p = w.p;
    if (p >= n) fail(p, n, at, 'ends where a number should be');
    let x = b[p++]!;
    let value = x & 0x7f;
    for (let scale = 0x80, k = 1; x >= 0x80; scale *= 0x80, k++) {
      if (k === MAX_VARINT_BYTES) fail(p, n, at, 'a number longer than 10 bytes');
      if (p >= n) fail(p, n, at, 'ends inside a number');
      x = b[p++]!;
      value += (x & 0x7f) * scale;
    }
    w.p = p;
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  };
  const skipVarint = (b: Buffer, p: number, at: number): number => {
    const end = p + MAX_VARINT_BYTES;
    for (;;) {
      if (p >= b.length) fail(p, b.length, at, 'ends inside a number');
      if (b[p++]! < 0x80) return p;
      if (p === end) fail(p, b.length, at, 'a number longer than 10 bytes');
    }
  };
  const skipLength = (b: Buffer, w: Walk, at: number): void => {
    const length = long(b, w, at);
    if (length < 0) fail(w.p, b.length, at, `negative length ${length}`);
    if (length > b.length - w.p) fail(w.p, b.length, at, `${length} bytes announced, ${b.length - w.p} left`);
    w.p += length;
  };
  const index = (b: Buffer, w: Walk, size: number, at: number): number => {
    const i = long(b, w, at);
    if (i < 0 || i >= size) fail(w.p, b.length, at, `index ${i} outside [0, ${size})`);
    return i;
  };
  /** A block's item count (its byte size, when announced, read and checked too), refused when the items cannot fit. */
  const count = (b: Buffer, w: Walk, minItem: number, at: number): number => {
    let items = long(b, w, at);
    if (items < 0) {
      items = -items;
      const size = long(b, w, at);
      if (size < 0 || size > b.length - w.p) fail(w.p, b.length, at, `a block of ${size} bytes announced, ${b.length - w.p} left`);
    }
    const left = b.length - w.p;
    if (minItem > 0 ? items * minItem > left : (w.zero -= items) < 0) fail(w.p, b.length, at, `${items} items announced, ${left} bytes left`);
    return items;
  };
  const enter = (w: Walk, at: number, n: number): void => {
    if (++w.depth > MAX_DEPTH) fail(w.p, n, at, `nested more than ${MAX_DEPTH} records deep`);
  };
  return { fail, long, skipVarint, skipLength, index, count, enter };
}

/**
 * Writes the check as JavaScript, one function per record type, as avsc itself does for speed (a
 * walk through closures per field took half as long as avsc's decode). Only numbers and local
 * names go into the code; field names stay in `paths`.
 */
class Generator {
  readonly paths: string[] = [];
  readonly functions: string[] = [];
  private readonly records = new Map<avro.Type, string>();
  private readonly minimums = new Map<avro.Type, number>();
  private variables = 0;

  constructor(private readonly bounds: PathBounds) {}

  /** The fewest bytes a value of `type` encodes to; a type still being measured (recursion) counts 0, a safe lower bound. */
  minSize(type: avro.Type): number {
    const known = this.minimums.get(type);
    if (known !== undefined) return known;
    this.minimums.set(type, 0);
    const t = parts(type);
    let size: number;
    switch (t.typeName) {
      case 'null': size = 0; break;
      case 'float': size = 4; break;
      case 'double': size = 8; break;
      case 'fixed': size = t.size!; break;
      case 'record': case 'error': size = t.fields!.reduce((sum, f) => sum + this.minSize(f.type), 0); break;
      default: size = t.underlyingType === undefined ? 1 : this.minSize(t.underlyingType);
    }
    this.minimums.set(type, size);
    return size;
  }

  private path(path: string): number {
    this.paths.push(path);
    return this.paths.length - 1;
  }

  /** Statements that move `p` over one value of `type`, inside a function with `b`, `n`, `p` and `w` in scope. */
  code(type: avro.Type, path: string): string {
    const t = parts(type);
    const at = (): number => this.path(path);
    const bounds = Object.hasOwn(this.bounds, path) ? this.bounds[path] : undefined;
    switch (t.typeName) {
      case 'null': return '';
      case 'boolean': return this.fixed(1, at());
      case 'float': return this.fixed(4, at()) + this.within('b.readFloatLE(p - 4)', bounds);
      case 'double': return this.fixed(8, at()) + this.within('b.readDoubleLE(p - 8)', bounds);
      case 'fixed': return this.fixed(t.size!, at());
      case 'int': case 'long':
        return bounds === undefined ? `p = H.skipVarint(b, p, ${at()});\n` : `w.p = p;\n${this.within(`H.long(b, w, ${at()})`, bounds)}p = w.p;\n`;
      case 'bytes': case 'string': return `w.p = p; H.skipLength(b, w, ${at()}); p = w.p;\n`;
      case 'enum': return `w.p = p; H.index(b, w, ${t.symbols!.length}, ${at()}); p = w.p;\n`;
      case 'array': return this.items(path, t.itemsType!, '');
      case 'map': return this.items(path, t.valuesType!, `w.p = p; H.skipLength(b, w, ${this.path(`${path}{key}`)}); p = w.p;\n`);
      case 'record': case 'error': return `w.p = p; ${this.record(type, t, path)}(b, w); p = w.p;\n`;
      default:
        if (t.types !== undefined) return this.union(t.types, path, at());
        if (t.underlyingType !== undefined) return this.code(t.underlyingType, path);
        throw new Error(`no frame check for Avro type ${t.typeName} at ${path}`);
    }
  }

  /** Marks the walk when the number `value` reads is outside `bounds` (nothing without bounds). */
  private within(value: string, bounds: { min: number; max: number } | undefined): string {
    if (bounds === undefined) return '';
    const v = `v${this.variables++}`;
    return `const ${v} = ${value};\nif (!(${v} >= ${bounds.min} && ${v} <= ${bounds.max})) w.outside = true;\n`;
  }

  private fixed(size: number, at: number): string {
    return `p += ${size};\nif (p > n) H.fail(p - ${size}, n, ${at}, '${size} bytes needed');\n`;
  }

  /**
   * A union's branch index is one byte (zigzag 2k) for the few branches a union has; a longer or
   * odd byte is no index a writer makes, and is refused like an index out of range.
   */
  private union(types: avro.Type[], path: string, at: number): string {
    const i = `i${this.variables++}`;
    if (types.length > ONE_BYTE_UNION) {
      const cases = types.map((branch, k) => `case ${k}:\n${this.code(branch, path)}break;\n`).join('');
      return `w.p = p; const ${i} = H.index(b, w, ${types.length}, ${at}); p = w.p;\nswitch (${i}) {\n${cases}}\n`;
    }
    const branches = types.map((branch, k) => `case ${2 * k}:\n${this.code(branch, path)}break;\n`).join('');
    return `if (p >= n) H.fail(p, n, ${at}, 'ends where a union index should be');\nconst ${i} = b[p++];\n`
      + `switch (${i}) {\n${branches}default: H.fail(p - 1, n, ${at}, 'union index byte ' + ${i} + ' is none of the ${types.length} branches');\n}\n`;
  }

  private record(type: avro.Type, t: TypeParts, path: string): string {
    const known = this.records.get(type);
    if (known !== undefined) return known;
    const name = `r${this.records.size}`;
    // Named before its fields are written, so a recursive schema calls back into it.
    this.records.set(type, name);
    const fields = t.fields!.map((f) => this.code(f.type, path === '' ? f.name : `${path}.${f.name}`)).join('');
    this.functions.push(`function ${name}(b, w) {\nconst n = b.length;\nH.enter(w, ${this.path(path)}, n);\nlet p = w.p;\n${fields}w.p = p;\nw.depth--;\n}\n`);
    return name;
  }

  /** Arrays, and maps (each entry a string key first): blocks of a count until a count of 0. */
  private items(path: string, itemType: avro.Type, key: string): string {
    const minItem = (key === '' ? 0 : 1) + this.minSize(itemType);
    const [c, k] = [`c${this.variables}`, `k${this.variables++}`];
    const item = this.code(itemType, `${path}${key === '' ? '[]' : '{}'}`);
    return `for (;;) {\nw.p = p; const ${c} = H.count(b, w, ${minItem}, ${this.path(path)}); p = w.p;\nif (${c} === 0) break;\n`
      + `for (let ${k} = 0; ${k} < ${c}; ${k}++) {\n${key}${item}}\n}\n`;
  }
}

/**
 * The check of bodies written with `writer` (the writer schema: its bytes are what the body holds,
 * whatever the reader keeps), reading the numbers at the paths of `bounds` on the way.
 */
export function frameCheck(writer: avro.Type, bounds: PathBounds = {}): FrameCheck {
  const generator = new Generator(bounds);
  const body = generator.code(writer, '');
  const source = `${generator.functions.join('')}return function check(b) {\nconst n = b.length;\n`
    // Zero-size items may number at most the body's length: what avsc then builds stays proportional to it.
    + `const w = { p: 0, zero: n, depth: 0, outside: false };\nlet p = 0;\n${body}return !w.outside;\n};\n`;
    // Safe to compile: generated from the schema's structure only: numbers and local names
  return new Function('H', source)(helpers(generator.paths)) as FrameCheck;
}
