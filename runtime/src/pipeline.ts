import type { Admin, Kafka, Producer } from 'kafkajs';
import { topicName, type Stream } from '@gpumon/schemas/topics';
import { TopicCodec } from './avro-codec.js';
import { errorMessage } from './errors.js';
import { isRetriable } from './dead-letter.js';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, connectAdmin, createKafka, createProducer, ensureTopics, kafkaOptions, maxMessageBytes, requireTopics, type KafkaSettings } from './kafka.js';
import type { Logger } from './log.js';
import { checkRegistry, createRegistryClient, registryOptions, type RegistrySettings } from './registry.js';
import { retryWhileRetriable } from './retry.js';

export const pipelineOptions = { ...kafkaOptions, ...registryOptions } as const;
export type PipelineSettings = KafkaSettings & RegistrySettings;

/**
 * How long a registry that answered the first request may stay slow or drop out before start fails:
 * a freshly started Apicurio can take longer than one request's timeout over its first registration.
 */
const REGISTRY_PATIENCE_MS = 120_000;

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
 * `use`: the topics and schemas must exist; only reads of the registry and no topic creation, so a
 * component needs no admin rights. `provision` (the admin step `gpumon topics`): creates the missing
 * topics, registers the schemas and makes their subjects BACKWARD compatible.
 */
export type PipelineAccess = 'use' | 'provision';

/**
 * Checks Kafka and the registry with real requests, finds (or, to provision, creates) the topics and
 * schemas of `streams` plus the dead-letter topic every component may write, and connects a producer.
 */
export async function openPipeline<S extends Stream>(
  settings: PipelineSettings,
  clientId: string,
  streams: readonly S[],
  log: Logger,
  access: PipelineAccess = 'use',
): Promise<Pipeline<S>> {
  const all = [...new Set<S | 'dlq'>([...streams, 'dlq'])];
  const kafka = createKafka(settings, clientId);
  const admin = await connectAdmin(settings, clientId);
  try {
    // Every service answers before anything is changed on any of them.
    const registry = createRegistryClient(settings);
    await checkRegistry(registry, settings);
    const topics = all.map((s) => topicName(s, settings.topicPrefix));
    if (access === 'provision') {
      const created = await ensureTopics(admin, settings, topics);
      if (created.length > 0) log.info('created topics', { topics: created.join(','), partitions: settings.topicPartitions });
    } else {
      await requireTopics(admin, topics);
    }
    const codecs = {} as Record<string, TopicCodec<Stream>>;
    for (const stream of all) {
      const codec = new TopicCodec(registry, stream, settings.topicPrefix);
      await retryWhileRetriable(
        `${access === 'provision' ? 'registering' : 'looking up'} the ${stream} schema`,
        () => (access === 'provision' ? codec.register() : codec.lookup()),
        isRetriable,
        log,
        AbortSignal.timeout(REGISTRY_PATIENCE_MS),
      );
      codecs[stream] = codec;
    }
    // A login allowed to write but not to describe configs still runs, with letters cut to Kafka's default.
    const deadLetterMaxBytes = await maxMessageBytes(admin, codecs.dlq!.topic).catch((error: unknown) => {
      log.warn(`cannot read max.message.bytes of ${codecs.dlq!.topic}; dead letters are cut to Kafka's default`, { bytes: KAFKA_DEFAULT_MAX_MESSAGE_BYTES, error: errorMessage(error) });
      return KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
    });
    const producer = createProducer(kafka);
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
