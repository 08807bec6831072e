import type { Admin, Kafka, Producer } from 'kafkajs';
import { topicName, type Stream } from '@gpumon/schemas/topics';
import { TopicCodec } from './avro-codec.js';
import { errorMessage } from './errors.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, connectAdmin, createKafka, ensureTopics, kafkaOptions, keyPartitioner, maxMessageBytes, type KafkaSettings } from './kafka.js';
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
  /** The dead-letter topic's max.message.bytes, which every dead letter is cut to fit. */
  deadLetterMaxBytes: number;
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
    // One attempt per send; callers retry the whole send. kafkajs 2.2.4's own retry skips the
    // brokers that answered the first attempt, so records of a partition whose leader moved to one
    // of them were never sent, yet the send succeeded (faults/cluster.test.ts lost acknowledged samples).
    // A login allowed to write but not to describe configs still runs, with letters cut to Kafka's default.
    const deadLetterMaxBytes = await maxMessageBytes(admin, codecs.dlq!.topic).catch((error: unknown) => {
      log.warn(`cannot read max.message.bytes of ${codecs.dlq!.topic}; dead letters are cut to Kafka's default`, { bytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES, error: errorMessage(error) });
      return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    });
    const producer = kafka.producer({ createPartitioner: keyPartitioner, allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    return {
      kafka,
      admin,
      producer,
      codecs: codecs as Codecs<S | 'dlq'>,
      deadLetterMaxBytes,
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
