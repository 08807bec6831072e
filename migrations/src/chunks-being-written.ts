import type { Queryable } from '@gpumon/runtime/database';

/**
 * The chunk of one gpumon hypertable whose time range holds now: the one the sink is writing.
 * Every row written adds an entry to each of its indexes, and while those fit in memory an entry
 * costs a descent through cached pages; once they outgrow it, a read. docs/retention.md says how
 * to size the intervals.
 */
export interface ChunkBeingWritten {
  hypertable: string;
  /** The chunk's time range, in seconds: the interval it was created with. */
  rangeS: number;
  /** Seconds from its oldest row to now: how long it has been written, even where the pipeline started inside its range. */
  writtenS: number;
  /** Its heap, indexes and TOAST now. */
  bytes: number;
}

export interface ChunksBeingWritten {
  chunks: ChunkBeingWritten[];
  /** PostgreSQL's `shared_buffers`. */
  sharedBuffersBytes: number;
}

/** Catalogue reads, relation sizes and one index read a chunk: no lock a write would wait on. */
export async function readChunksBeingWritten(db: Queryable): Promise<ChunksBeingWritten> {
  const { rows } = await db.query<{ hypertable: string; chunk: string; time_column: string; range_s: number; bytes: string }>(
    // The continuous aggregates' own hypertables live in TimescaleDB's schema, not among gpumon's.
    `SELECT c.hypertable_name AS hypertable, format('%I.%I', c.chunk_schema, c.chunk_name) AS chunk,
            format('%I', d.column_name) AS time_column,
            extract(epoch FROM c.range_end - c.range_start)::float8 AS range_s,
            pg_total_relation_size(format('%I.%I', c.chunk_schema, c.chunk_name)::regclass) AS bytes
       FROM timescaledb_information.chunks c
       JOIN timescaledb_information.dimensions d
         ON d.hypertable_schema = c.hypertable_schema AND d.hypertable_name = c.hypertable_name AND d.dimension_number = 1
      WHERE c.hypertable_schema = current_schema() AND c.hypertable_name LIKE 'gpu\\_%'
        AND c.range_start <= now() AND c.range_end > now()
      ORDER BY c.hypertable_name`,
  );
  const chunks: ChunkBeingWritten[] = [];
  for (const r of rows) {
    // Identifiers quoted by PostgreSQL's format() above; the time index answers min() from its end.
    const oldest = await db.query<{ s: number | null }>(`SELECT extract(epoch FROM now() - min(${r.time_column}))::float8 AS s FROM ${r.chunk}`);
    const writtenS = oldest.rows[0]?.s;
    if (writtenS !== null && writtenS !== undefined) chunks.push({ hypertable: r.hypertable, rangeS: r.range_s, writtenS, bytes: Number(r.bytes) });
  }
  const shared = await db.query<{ bytes: string }>(`SELECT pg_size_bytes(current_setting('shared_buffers')) AS bytes`);
  return { chunks, sharedBuffersBytes: Number(shared.rows[0]!.bytes) };
}

/** A chunk written for less than this says too little about the rate to project it. */
const MIN_WRITTEN_S = 60;

/** What a chunk of this range holds, written whole at the rate so far; undefined while too young to tell. */
export function projectedBytes(chunk: ChunkBeingWritten): number | undefined {
  if (chunk.writtenS < MIN_WRITTEN_S) return undefined;
  return chunk.bytes * (chunk.rangeS / Math.min(chunk.writtenS, chunk.rangeS));
}

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  return `${Math.round(bytes / 1024 ** 2)} MB`;
}

function duration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds / 60)} min`;
}

/**
 * One line for `gpumon status`: what the chunks being written would hold, written whole at this
 * rate, against `shared_buffers`, the three largest named; the advice when they will not fit.
 */
export function describeChunksBeingWritten({ chunks, sharedBuffersBytes }: ChunksBeingWritten): string {
  const projected = chunks.flatMap((c) => {
    const bytes = projectedBytes(c);
    return bytes === undefined ? [] : [{ ...c, projected: bytes }];
  }).sort((a, b) => b.projected - a.projected);
  if (projected.length === 0) return 'chunks being written: none written for a minute yet';
  const total = projected.reduce((n, c) => n + c.projected, 0);
  const largest = projected.slice(0, 3).map((c) => `${c.hypertable} ${size(c.projected)} of ${duration(c.rangeS)}`).join(', ');
  const buffers = `shared_buffers ${size(sharedBuffersBytes)}`;
  return total <= sharedBuffersBytes
    ? `chunks being written: ${size(total)} when whole at this rate (${largest}), within ${buffers}`
    : `chunks being written: ${size(total)} when whole at this rate (${largest}), more than ${buffers}: `
      + 'their indexes will outgrow memory and writes slow down; shorter chunk intervals (docs/retention.md, "A larger fleet")';
}
