import type { Admin, Kafka, Producer } from 'kafkajs';
import { topicName, type Stream } from '@gpumon/schemas/topics';
import { TopicCodec } from './avro-codec.js';
import { connectAdmin, createKafka, createProducer, ensureTopics, kafkaOptions, type KafkaSettings } from './kafka.js';
import type { Logger } from './log.js';
import { checkRegistry, createRegistryClient, registryOptions, type RegistrySettings } from './registry.js';

export const pipelineOptions = { ...kafkaOptions, ...registryOptions } as const;
export type PipelineSettings = KafkaSettings & RegistrySettings;

export type Codecs<S extends Stream> = { [K in S]: TopicCodec<K> };

/** What a gpumon process holds while it runs: one Kafka client, its topics, their codecs, one producer. */
export interface Pipeline<S extends Stream> {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  codecs: Codecs<S | 'dlq'>;
  close(): Promise<void>;
}

/**
 * Checks Kafka and the registry with real requests, creates missing topics, registers the schemas
 * of `streams` (plus the dead-letter topic every component may write) and connects a producer.
 */
export async function openPipeline<S extends Stream>(
  settings: PipelineSettings,
  clientId: string,
  streams: readonly S[],
  log: Logger,
): Promise<Pipeline<S>> {
  const all = [...new Set<S | 'dlq'>([...streams, 'dlq'])];
  const kafka = createKafka(settings, clientId);
  const admin = await connectAdmin(settings, clientId);
  try {
    // Every service answers before anything is changed on any of them.
    const registry = createRegistryClient(settings);
    await checkRegistry(registry, settings);
    const created = await ensureTopics(admin, settings, all.map((s) => topicName(s, settings.topicPrefix)));
    if (created.length > 0) log.info('created topics', { topics: created.join(','), partitions: settings.topicPartitions });
    const codecs = {} as Record<string, TopicCodec<Stream>>;
    for (const stream of all) {
      const codec = new TopicCodec(registry, stream, settings.topicPrefix);
      await codec.register();
      codecs[stream] = codec;
    }
    const producer = createProducer(kafka);
    await producer.connect();
    return {
      kafka,
      admin,
      producer,
      codecs: codecs as Codecs<S | 'dlq'>,
      close: async () => {
        await producer.disconnect();
        await admin.disconnect();
      },
    };
  } catch (error) {
    await admin.disconnect();
    throw error;
  }
}
