import type { KafkaMessage, Message } from 'kafkajs';
import type pg from 'pg';
import { Registry } from 'prom-client';
import type { ConfigOf } from '@gpumon/runtime/config';
import { startConsumerLoop } from '@gpumon/runtime/consumer-loop';
import { Counters } from '@gpumon/runtime/counters';
import { checkDatabase, createPool, type DatabaseSettings } from '@gpumon/runtime/database';
import { DeadLetters, decodeBatch, isRetriable } from '@gpumon/runtime/dead-letter';
import type { Logger } from '@gpumon/runtime/log';
import { startMetricsServer } from '@gpumon/runtime/metrics';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { Pauses } from '@gpumon/runtime/pauses';
import { DEFAULT_BACKOFF, retryWhileRetriable } from '@gpumon/runtime/retry';
import { validateRecord } from '@gpumon/runtime/sample-validation';
import { sendDeadLetters } from '@gpumon/runtime/send';
import { alongsideOf } from './alongside.js';
import { Batcher } from './batcher.js';
import type { sinkOptions } from './options.js';
import { TableWriter } from './table-writer.js';
import { tableOf } from './tables.js';

export type SinkSettings = PipelineSettings & DatabaseSettings & ConfigOf<typeof sinkOptions>;

const COMPONENT = 'sink-timescaledb';
/** Partition batches handled at once: they are what one database write can group. */
const CONCURRENT_BATCHES = 16;
/** Database connections: writes of different tables, or of one table's full groups, run side by side. */
const CONNECTIONS = 4;
/** A floor on one record's size, so a fetch returns early once it surely holds a full write. */
const MIN_RECORD_BYTES = 100;

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

export interface RunningSink {
  counters: Counters;
  /** Records whose rows are in the database and whose offsets are committed. */
  committed(): number;
  stop(): Promise<void>;
  done: Promise<void>;
}

interface Row {
  batch: { topic: string; partition: number };
  message: KafkaMessage;
  record: Record<string, unknown>;
}

/**
 * Consumes the configured streams; concurrent partition batches are grouped by table into writes
 * of up to `batchRows`, and a batch's offsets are committed only after all of its rows are in.
 */
export async function runSink(settings: SinkSettings, log: Logger): Promise<RunningSink> {
  const pool = createPool(settings, CONNECTIONS, settings.statementTimeout);
  // An idle connection the server ends (a restart) is dropped from the pool; the next write reconnects.
  pool.on('error', (error) => log.warn('database connection lost', { error: error.message }));
  // A connection's socket can still report its reset after the failed write let go of it: heard, not fatal.
  pool.on('connect', (client) => client.on('error', (error) => log.debug('database connection error after use', { error: error.message })));
  await checkDatabase(pool, settings);
  const retention = await retentionWindows(pool);
  const pipeline = await openPipeline(settings, COMPONENT, settings.streams, log);
  const registry = new Registry();
  const counters = new Counters(registry, COMPONENT);
  const deadLetters = new DeadLetters(COMPONENT, pipeline.codecs.dlq, counters, log, pipeline.deadLetterMaxBytes);
  const stopping = new AbortController();
  const pauses = new Pauses(registry, COMPONENT, log);
  const byTopic = new Map(settings.streams.map((stream) => [pipeline.codecs[stream].topic, {
    stream,
    codec: pipeline.codecs[stream],
    writer: new TableWriter(pool, tableOf(stream), alongsideOf(stream)),
  }]));

  const sendLetters = (letters: Message[]): Promise<void> =>
    sendDeadLetters(deadLetters.topic, letters, { producer: pipeline.producer, log, signal: stopping.signal, pauses });

  const batcher = new Batcher<Row>({
    maxRows: settings.batchRows,
    maxWaitMs: settings.batchWait,
    write: async (topic, rows) => {
      const { writer } = byTopic.get(topic)!;
      const result = await retryWhileRetriable(
        `writing ${rows.length} rows to ${writer.table.name}`, () => writer.write(rows, (r) => r.record), isRetriable, log, stopping.signal, DEFAULT_BACKOFF, pauses,
      );
      counters.add('sent', result.inserted);
      counters.add('dropped', result.duplicates);
      await sendLetters(result.rejected.map(({ item, error }) => deadLetters.letter(item.batch, item.message, error, 'database_rejected')));
    },
  });

  const running = await startConsumerLoop({
    registry,
    kafka: pipeline.kafka,
    groupId: settings.groupId,
    topics: [...byTopic.keys()],
    fromBeginning: settings.fromBeginning,
    sessionTimeoutMs: settings.sessionTimeout,
    consumer: { minBytes: settings.batchRows * MIN_RECORD_BYTES, maxWaitTimeInMs: settings.batchWait },
    partitionsConsumedConcurrently: CONCURRENT_BATCHES,
    log,
    handleBatch: async (batch) => {
      const target = byTopic.get(batch.topic);
      if (target === undefined) throw new Error(`sink got a batch of unexpected topic ${batch.topic}`);
      // The rows go in while the loop fetches and decodes the next batches; offsets follow the commit of their write.
      const { written } = await batcher.add(batch.topic, async () => {
        const decode = (value: Buffer | null): Promise<Record<string, unknown>> =>
          target.codec.decode(value) as Promise<unknown> as Promise<Record<string, unknown>>;
        // The processors' own validation: what they dead-letter, the sink dead-letters too, so no table holds an impossible row.
        const validate = (record: Record<string, unknown>, message: KafkaMessage): void =>
          validateRecord(target.stream, record as never, Number(message.timestamp));
        const { decoded, letters } = await decodeBatch(batch, decode, deadLetters, counters, log, stopping.signal, validate);
        await sendLetters(letters);
        const window = retention.get(target.writer.table.name);
        const oldest = window === undefined ? -Infinity : Date.now() - window;
        const current = decoded.filter((d) => (d.record.time as number) >= oldest);
        if (current.length < decoded.length) {
          counters.add('dropped', decoded.length - current.length);
          log.warn('skipped records older than the retention window', {
            topic: batch.topic, partition: batch.partition, records: decoded.length - current.length, retention_ms: window,
          });
        }
        return current.map((d) => ({ batch, message: d.message, record: d.record }));
      });
      return { durable: written };
    },
  });

  // Healthy means not paused, and a zero-row COPY into every table, in a transaction, still works.
  const server = await startMetricsServer(settings.metricsPort, registry, async () => {
    pauses.check();
    for (const { writer } of byTopic.values()) await writer.write([], () => ({}));
  }, log);

  return {
    counters,
    committed: running.committed,
    done: running.done,
    stop: async () => {
      // The loop marks itself stopping first, so writes given up by the abort are not taken for failures.
      const stopped = running.stop();
      stopping.abort();
      server?.close();
      await stopped;
      await pipeline.close();
      await pool.end();
      log.info('stopped', counters.snapshot());
    },
  };
}
