import { isDeepStrictEqual } from 'node:util';
import avro from 'avsc';
import { schemaText, type AvroRecord } from '@gpumon/schemas/avro';
import { RECORD_BOUNDS, type BoundedStream } from '@gpumon/schemas/sample-bounds';
import { valueSubject, topicName, type Stream } from '@gpumon/schemas/topics';
import type { StreamRecords } from '@gpumon/schemas/types.generated';
import { compileCodec, type CompiledCodec } from './avro-compiled.js';
import { HEADER_BYTES, MAGIC, RecordEncoder } from './avro-encoder.js';
import { frameCheck, type FrameCheck, type PathBounds } from './avro-frame-check.js';
import { GpumonError, errorMessage } from './errors.js';
import { Compatibility, type SchemaRegistryClient } from './registry.js';

/** How to read bodies of one writer schema: checked against its bytes first, then decoded. */
interface Reader {
  check: FrameCheck;
  decode: (body: Buffer) => unknown;
}

/** One reader schema of the topic: the whole record, or a projection that leaves top-level fields out. */
interface View {
  type: avro.Type;
  /** The bounds of the numbers it leaves out, which the frame check reads instead (sample-bounds paths). */
  leftOutBounds: PathBounds;
  /** Its decoder of bodies written with this build's schema; avsc resolves any other writer schema. */
  compiled: CompiledCodec;
  /** Per writer schema id: how this view reads it. */
  readers: Map<number, Reader>;
}

/**
 * A registry that answered with a client error (incompatible or invalid schema, no rights) refused the
 * request: asking again cannot help. No answer (a timeout, a refused connection) or a server error is
 * the registry being down or slow, which a freshly started Apicurio is for its first registration.
 */
function registryFailure(error: unknown, what: string): GpumonError {
  const status = (error as { status?: number }).status;
  const refused = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
  return refused
    ? new GpumonError('schema_rejected', `schema registry refused ${what}: ${errorMessage(error)}`, { cause: error })
    : new GpumonError('service_unreachable', `schema registry did not answer ${what}: ${errorMessage(error)}`, { cause: error, reason: 'schema_registry' });
}

/**
 * Decodes a topic's values (Confluent framing included); a malformed one throws decode_failed. The
 * record comes at once when its writer schema is known, a promise when the registry must be asked:
 * a consumer decodes thousands a second, and a promise apiece was a good part of its allocation.
 */
export type Decode<R> = (value: Buffer | null) => R | Promise<R>;

/**
 * Avro serde for one topic's values. Encodes with the schema this build ships (registered under
 * TopicNameStrategy with BACKWARD compatibility) and decodes any registered writer schema of the
 * topic, resolving it to that same reader schema, so older and newer producers can coexist. The
 * build's own schema is encoded and decoded by code compiled from it (avro-compiled.ts), any other
 * writer schema by avsc's resolution.
 */
export class TopicCodec<S extends Stream> {
  readonly topic: string;
  readonly subject: string;
  private readonly readerType: avro.Type;
  readonly schema: string;
  /** Encodes under this build's schema id, once registered or looked up. */
  private encoder: RecordEncoder<S> | undefined;
  /** The writer schema of each id seen, this build's own once registered or looked up. */
  private readonly writerTypes = new Map<number, avro.Type>();
  /** Decodes whole records. */
  private readonly whole: View;

  constructor(
    private readonly registry: SchemaRegistryClient,
    readonly stream: S,
    topicPrefix = '',
  ) {
    this.topic = topicName(stream, topicPrefix);
    this.subject = valueSubject(this.topic);
    this.schema = schemaText(stream);
    this.readerType = avro.Type.forSchema(JSON.parse(this.schema) as avro.Schema);
    this.whole = { type: this.readerType, leftOutBounds: {}, compiled: compileCodec(this.readerType), readers: new Map() };
  }

  /** Registers the schema (a no-op when already registered) and makes the subject BACKWARD compatible. */
  async register(): Promise<number> {
    let id: number;
    try {
      // updateCompatibility rather than updateConfig: Apicurio's ccompat API answers the latter with HTTP 500.
      await this.registry.updateCompatibility(this.subject, Compatibility.BACKWARD);
      id = await this.registry.register(this.subject, { schemaType: 'AVRO', schema: this.schema });
    } catch (error) {
      throw registryFailure(error, `registering the ${this.stream} schema under subject ${this.subject}`);
    }
    this.assumeRegistered(id);
    return id;
  }

  /**
   * Finds the id under which `gpumon topics` registered this build's schema, with GET requests only:
   * a component that merely reads and writes a topic needs no write rights on the registry.
   */
  async lookup(): Promise<number> {
    const wanted: unknown = JSON.parse(this.schema);
    try {
      // Newest first: the schema of a running build is nearly always the latest version.
      const versions = (await this.registry.getAllVersions(this.subject)).sort((a, b) => b - a);
      for (const version of versions) {
        const found = await this.registry.getSchemaMetadata(this.subject, version);
        if (found.id !== undefined && isDeepStrictEqual(JSON.parse(found.schema ?? 'null'), wanted)) {
          this.assumeRegistered(found.id);
          return found.id;
        }
      }
    } catch (error) {
      if ((error as { status?: number }).status !== 404) throw registryFailure(error, `looking up subject ${this.subject}`);
    }
    throw new GpumonError(
      'not_provisioned',
      `subject ${this.subject} has no version with this build's ${this.stream} schema; register it with \`gpumon topics\` (an admin step)`,
    );
  }

  /** The registry id records are encoded under, once registered or looked up: worker threads that encode for this codec assume it. */
  get schemaId(): number | undefined {
    return this.encoder?.schemaId;
  }

  /** Uses an id registered earlier for this very schema (the agent's cache while the registry is down). */
  assumeRegistered(id: number): void {
    this.encoder = new RecordEncoder(this.topic, this.stream, id, this.whole.compiled);
    this.writerTypes.set(id, this.readerType);
  }

  encode(record: StreamRecords[S]): Buffer {
    if (this.encoder === undefined) throw new Error(`TopicCodec(${this.topic}): register() or lookup() before encode()`);
    return this.encoder.encode(record);
  }

  async decode(value: Buffer | null): Promise<StreamRecords[S]> {
    return this.read(this.whole, value);
  }

  /**
   * A decoder of records without the top-level `fields`, for a stage that never reads them (the
   * sink stores no features): Avro's schema resolution skips their bytes without building them.
   * The frame check still walks them, and reads their numbers against the stream's bounds: a
   * record with one outside is decoded whole, so validation refuses it with the very reason every
   * other consumer gives. The records it returns lack those fields.
   */
  decoderLeavingOut(fields: readonly string[]): Decode<StreamRecords[S]> {
    if (fields.length === 0) return (value) => this.read(this.whole, value);
    const schema = JSON.parse(this.schema) as AvroRecord;
    const missing = fields.filter((name) => !schema.fields.some((f) => f.name === name));
    if (missing.length > 0) throw new Error(`TopicCodec(${this.topic}): no field ${missing.join(', ')} to leave out`);
    const left = new Set(fields);
    const bounds = this.stream === 'dlq' ? {} : RECORD_BOUNDS[this.stream as BoundedStream];
    const view: View = {
      type: avro.Type.forSchema({ ...schema, fields: schema.fields.filter((f) => !left.has(f.name)) } as avro.Schema),
      leftOutBounds: Object.fromEntries(Object.entries(bounds).filter(([path]) => left.has(path.split(/\.|\[/)[0]!))),
      compiled: compileCodec(this.readerType, left),
      readers: new Map(),
    };
    return (value) => this.read(view, value);
  }

  private read(view: View, value: Buffer | null): StreamRecords[S] | Promise<StreamRecords[S]> {
    if (value === null || value.length < HEADER_BYTES || value.readUInt8(0) !== MAGIC) {
      throw new GpumonError('decode_failed', `not a Confluent Avro message (${value === null ? 'null value' : `${value.length} bytes`})`);
    }
    const id = value.readUInt32BE(1);
    const reader = view.readers.get(id);
    if (reader === undefined) return this.loadReader(view, id).then(() => this.read(view, value));
    const body = value.subarray(HEADER_BYTES);
    try {
      if (reader.check(body)) return reader.decode(body) as StreamRecords[S];
    } catch (error) {
      throw new GpumonError('decode_failed', `cannot decode with writer schema ${id}: ${errorMessage(error)}`, { cause: error });
    }
    // A left-out number outside its bounds: the whole record, for validation to name it.
    return this.read(this.whole, value);
  }

  private async loadReader(view: View, id: number): Promise<Reader> {
    const writerType = this.writerTypes.get(id) ?? (await this.loadWriter(id));
    // The same canonical schema writes the same bytes, whatever docs or defaults it was registered with.
    const resolver = writerType.equals(this.readerType) ? undefined : view.type.createResolver(writerType);
    const reader: Reader = {
      // The writer's schema drives the check: the body holds its fields, whatever the reader keeps of them.
      check: frameCheck(writerType, view.leftOutBounds),
      decode: resolver === undefined ? (body) => view.compiled.decode(body) : (body) => view.type.fromBuffer(body, resolver),
    };
    view.readers.set(id, reader);
    return reader;
  }

  private async loadWriter(id: number): Promise<avro.Type> {
    let writer: AvroRecord;
    try {
      const info = await this.registry.getBySubjectAndId(this.subject, id);
      writer = JSON.parse(info.schema) as AvroRecord;
    } catch (error) {
      // Only the registry saying "no such schema" makes the message undecodable; an outage is retried.
      const notFound = (error as { status?: number }).status === 404;
      throw new GpumonError(
        notFound ? 'decode_failed' : 'service_unreachable',
        `writer schema ${id} of ${this.subject}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const writerType = avro.Type.forSchema(writer as avro.Schema);
    this.writerTypes.set(id, writerType);
    return writerType;
  }
}
