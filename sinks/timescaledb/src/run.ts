import type pg from 'pg';
import type { ConfigOf } from '@gpumon/runtime/config';
import { runConsumer, type Consumed, type RunningConsumer, type SinkDefinition } from '@gpumon/runtime/consumer';
import { checkDatabase, createPool, type DatabaseSettings } from '@gpumon/runtime/database';
import { isRetriable } from '@gpumon/runtime/dead-letter';
import type { Logger } from '@gpumon/runtime/log';
import type { PipelineSettings } from '@gpumon/runtime/pipeline';
import { DEFAULT_BACKOFF, retryWhileRetriable } from '@gpumon/runtime/retry';
import { alongsideOf } from './alongside.js';
import { Batcher } from './batcher.js';
import type { sinkOptions } from './options.js';
import { TableWriter } from './table-writer.js';
import { WriteMetrics } from './write-metrics.js';
import { NOT_STORED, tableOf, type SinkStream } from './tables.js';

export type SinkSettings = PipelineSettings & DatabaseSettings & ConfigOf<typeof sinkOptions>;

const COMPONENT = 'sink-timescaledb';
/** Partition batches handled at once: they are what one database write can group. */
const CONCURRENT_BATCHES = 16;
/** Database connections: writes of different tables, or of one table's full groups, run side by side. */
const CONNECTIONS = 4;
/** A floor on one record's size, so a fetch returns early once it surely holds a full write. */
const MIN_RECORD_BYTES = 100;
/**
 * Most bytes one fetch brings (kafkajs: 10 MiB). Each record waiting for its write holds its
 * message for a dead letter, and each message is a slice of its fetch response, so the responses
 * stay resident until their last record commits. 4 MiB is about 3,500 samples, and the batcher
 * groups the batches of several fetches into one write: at 14,000 samples/s the sink peaked at
 * 255-277 MB against 298-307, and caught up as fast (`npm run bench -- sink`: 25,466-28,911 rows/s
 * against 25,088-30,008 with 10 MiB).
 */
const FETCH_MAX_BYTES = 4 * 1024 * 1024;

/**
 * How long each table keeps its rows (gpu_retention, which the retention job reads too), in ms. A
 * record older than that is not written: the next retention run would drop it again.
 */
async function retentionWindows(pool: pg.Pool): Promise<Map<string, number>> {
  const result = await pool.query<{ hypertable_name: string; ms: number }>(
    'SELECT hypertable_name, (extract(epoch FROM drop_after) * 1000)::float8 AS ms FROM gpu_retention',
  );
  return new Map(result.rows.map((r) => [r.hypertable_name, r.ms]));
}

/**
 * Throws unless the database answers, takes writes, and lets the sink insert into each of `tables`:
 * catalogue reads only, so a readiness probe writes nothing and takes no lock a write would wait on.
 */
async function checkWritable(pool: pg.Pool, tables: readonly string[]): Promise<void> {
  const result = await pool.query<{ read_only: string; table: string; insertable: boolean }>(
    `SELECT current_setting('transaction_read_only') AS read_only, t AS table, has_table_privilege(t, 'INSERT') AS insertable
       FROM unnest($1::text[]) AS t`, [tables],
  );
  if (result.rows[0]?.read_only === 'on') throw new Error('the database takes no writes (transaction_read_only is on)');
  const refused = result.rows.filter((r) => !r.insertable).map((r) => r.table);
  if (refused.length > 0) throw new Error(`the sink's login may not INSERT into ${refused.join(', ')}`);
}

/** A record as it came from the consumer shell: its row, and its message for a dead letter. */
type Row = Consumed<SinkStream>;

/**
 * The sink as the consumer shell runs it: concurrent partition batches are grouped by table into
 * writes of up to `batchRows`, and a batch's offsets are committed only after all of its rows are in.
 */
function timescaleSink(settings: SinkSettings, pool: pg.Pool, retention: ReadonlyMap<string, number>): SinkDefinition<SinkStream> {
  return {
    component: COMPONENT,
    inputs: settings.streams,
    leaveOut: NOT_STORED,
    fetch: { minBytes: settings.batchRows * MIN_RECORD_BYTES, maxWaitTimeInMs: settings.batchWait, maxBytes: FETCH_MAX_BYTES },
    concurrentBatches: CONCURRENT_BATCHES,
    // Every record not yet committed keeps its decoded row and pins its fetch response: a write's
    // worth in all took 20-40 MB off the sink's peak against 10,000 (5,000 rows each; four
    // end-to-end runs and six of `npm run bench -- sink`, alternated) at the same rate and CPU.
    maxPendingRecords: settings.batchRows,
    close: () => pool.end(),
    start: ({ counters, deadLetters, sendDeadLetters, log, signal, pauses, registry }) => {
      const metrics = new WriteMetrics(registry);
      const writers = new Map(settings.streams.map((stream) => [stream, new TableWriter(pool, tableOf(stream), alongsideOf(stream))]));
      const batcher = new Batcher<Row>({
        maxRows: settings.batchRows,
        maxWaitMs: settings.batchWait,
        write: async (stream, rows) => {
          const writer = writers.get(stream as SinkStream)!;
          const table = writer.table.name;
          const result = await retryWhileRetriable(`writing ${rows.length} rows to ${table}`, () => metrics.timed(table, async () => {
            const written = await writer.write(rows, (r) => r.record as unknown as Record<string, unknown>);
            const refused = new Set(written.rejected.map((r) => r.item));
            return { ...written, bytes: rows.reduce((n, r) => n + (refused.has(r) ? 0 : r.message.value?.length ?? 0), 0) };
          }), isRetriable, log, signal, DEFAULT_BACKOFF, pauses);
          counters.add('sent', result.inserted);
          counters.add('dropped', result.duplicates);
          await sendDeadLetters(result.rejected.map(({ item, error }) => deadLetters.letter(item.message, error, 'database_rejected')));
        },
      });
      return {
        // A write waits for the batches still being decoded, so it goes out as full as they make it.
        arriving: () => batcher.arriving(),
        handle: async (batch) => {
          // The rows go in while the loop fetches and decodes the next batches; offsets follow the commit of their write.
          const { written } = await batcher.add(batch.stream, () => {
            const window = retention.get(writers.get(batch.stream)!.table.name);
            const oldest = window === undefined ? -Infinity : Date.now() - window;
            const current = batch.records.filter((d) => d.record.time >= oldest);
            if (current.length < batch.records.length) {
              counters.add('dropped', batch.records.length - current.length);
              log.warn('skipped records older than the retention window', {
                topic: batch.topic, partition: batch.partition, records: batch.records.length - current.length, retention_ms: window,
              });
            }
            return Promise.resolve(current);
          });
          return { durable: written };
        },
        ready: () => checkWritable(pool, [...writers.values()].map((w) => w.table.name)),
      };
    },
  };
}

export type RunningSink = RunningConsumer;

/** `gpumon sink`: the configured streams into TimescaleDB, once the database answers and holds the migrated tables. */
export async function runSink(settings: SinkSettings, log: Logger): Promise<RunningSink> {
  const pool = createPool(settings, CONNECTIONS, settings.statementTimeout);
  // An idle connection the server ends (a restart) is dropped from the pool; the next write reconnects.
  pool.on('error', (error) => log.warn('database connection lost', { error: error.message }));
  // A connection's socket can still report its reset after the failed write let go of it: heard, not fatal.
  pool.on('connect', (client) => client.on('error', (error) => log.debug('database connection error after use', { error: error.message })));
  let retention: Map<string, number>;
  try {
    await checkDatabase(pool, settings);
    retention = await retentionWindows(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return runConsumer(timescaleSink(settings, pool, retention), settings, log);
}
