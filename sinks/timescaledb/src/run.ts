import { Registry } from 'prom-client';
import type { ConfigOf } from '@gpumon/runtime/config';
import { startConsumerLoop } from '@gpumon/runtime/consumer-loop';
import { Counters } from '@gpumon/runtime/counters';
import { checkDatabase, createPool, type DatabaseSettings } from '@gpumon/runtime/database';
import { DeadLetters, decodeBatch, isRetriable } from '@gpumon/runtime/dead-letter';
import type { Logger } from '@gpumon/runtime/log';
import { startMetricsServer } from '@gpumon/runtime/metrics';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { retryWhileRetriable } from '@gpumon/runtime/retry';
import type { sinkOptions } from './options.js';
import { TableWriter } from './table-writer.js';
import { tableOf } from './tables.js';

export type SinkSettings = PipelineSettings & DatabaseSettings & ConfigOf<typeof sinkOptions>;

const COMPONENT = 'sink-timescaledb';

export interface RunningSink {
  counters: Counters;
  stop(): Promise<void>;
  done: Promise<void>;
}

/** Consumes the configured streams and writes each partition's batch before committing its offsets. */
export async function runSink(settings: SinkSettings, log: Logger): Promise<RunningSink> {
  const pool = createPool(settings);
  await checkDatabase(pool, settings);
  const pipeline = await openPipeline(settings, COMPONENT, settings.streams, log);
  const registry = new Registry();
  const counters = new Counters(registry, COMPONENT);
  const deadLetters = new DeadLetters(COMPONENT, pipeline.codecs.dlq, counters, log);
  const stopping = new AbortController();
  const byTopic = new Map(
    settings.streams.map((stream) => [pipeline.codecs[stream].topic, { codec: pipeline.codecs[stream], writer: new TableWriter(pool, tableOf(stream)) }]),
  );

  const running = await startConsumerLoop({
    registry,
    kafka: pipeline.kafka,
    groupId: settings.groupId,
    topics: [...byTopic.keys()],
    fromBeginning: settings.fromBeginning,
    log,
    handleBatch: async (batch, heartbeat) => {
      const target = byTopic.get(batch.topic);
      if (target === undefined) throw new Error(`sink got a batch of unexpected topic ${batch.topic}`);
      const decode = (value: Buffer | null): Promise<Record<string, unknown>> =>
        target.codec.decode(value) as Promise<unknown> as Promise<Record<string, unknown>>;
      const { decoded, letters } = await decodeBatch(batch, decode, deadLetters, counters, log, stopping.signal);
      const result = await retryWhileRetriable(
        `writing ${decoded.length} rows to ${target.writer.table.name}`,
        () => target.writer.write(decoded, (d) => d.record),
        isRetriable,
        log,
        stopping.signal,
      );
      counters.add('sent', result.inserted);
      counters.add('dropped', result.duplicates);
      for (const { item, error } of result.rejected) letters.push(deadLetters.letter(batch, item.message, error, 'database_rejected'));
      if (letters.length > 0) {
        await retryWhileRetriable('sending dead letters', () => pipeline.producer.send({ topic: deadLetters.topic, messages: letters, acks: -1 }), () => true, log, stopping.signal);
      }
      await heartbeat();
    },
  });

  // Healthy means a zero-row COPY through the same staging path still works for every table.
  const server = await startMetricsServer(settings.metricsPort, registry, async () => {
    for (const { writer } of byTopic.values()) await writer.write([], () => ({}));
  }, log);

  return {
    counters,
    done: running.done,
    stop: async () => {
      stopping.abort();
      server?.close();
      await running.stop();
      await pipeline.close();
      await pool.end();
      log.info('stopped', counters.snapshot());
    },
  };
}
