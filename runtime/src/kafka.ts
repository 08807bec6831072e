// First: kafkajs's producer takes its grouping when kafkajs loads (kafkajs-fixes.ts).
import './kafkajs-fixes.js';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { Kafka, logLevel, type Admin, type KafkaConfig, type Producer, type SASLOptions, type LogEntry } from 'kafkajs';
import { parse, type ConfigOf } from './config.js';
import { GpumonError, errorMessage } from './errors.js';
import { keyPartitioner } from './key-partitioner.js';
import { createLogger } from './log.js';
import './kafkajs-timer-warning.js';

export const kafkaOptions = {
  kafkaBrokers: {
    env: 'KAFKA_BROKERS', flag: 'kafka-brokers', default: 'localhost:9092', example: 'kafka-1:9092,kafka-2:9092',
    description: 'Kafka bootstrap brokers, comma-separated host:port.', schema: parse.hostPorts(),
  },
  kafkaSsl: {
    env: 'KAFKA_SSL', flag: 'kafka-ssl', default: 'false', example: 'true',
    description: 'Connect to Kafka over TLS.', schema: parse.boolean(),
  },
  kafkaSslCaFile: {
    env: 'KAFKA_SSL_CA_FILE', flag: 'kafka-ssl-ca-file', example: '/etc/ssl/kafka-ca.pem',
    description: 'PEM file of the CA that signed the brokers\' certificates (default: the system CAs).', schema: parse.optionalString(),
  },
  kafkaSaslMechanism: {
    env: 'KAFKA_SASL_MECHANISM', flag: 'kafka-sasl-mechanism', default: 'none', example: 'scram-sha-512',
    description: 'SASL mechanism: none, plain, scram-sha-256 or scram-sha-512.',
    schema: parse.oneOf(['none', 'plain', 'scram-sha-256', 'scram-sha-512']),
  },
  kafkaSaslUsername: {
    env: 'KAFKA_SASL_USERNAME', flag: 'kafka-sasl-username', example: 'gpumon',
    description: 'SASL user name.', schema: parse.optionalString(),
  },
  kafkaSaslPassword: {
    env: 'KAFKA_SASL_PASSWORD', flag: 'kafka-sasl-password', example: 'secret', secret: true,
    description: 'SASL password.', schema: parse.optionalString(),
  },
  topicPrefix: {
    env: 'GPUMON_TOPIC_PREFIX', flag: 'topic-prefix', example: 'staging.',
    description: 'Prefix put before every gpumon topic name, to run several pipelines on one cluster.', schema: parse.optionalString(),
  },
  topicPartitions: {
    env: 'GPUMON_TOPIC_PARTITIONS', flag: 'topic-partitions', default: '6', example: '24',
    description: 'Partitions of each topic gpumon creates (existing topics are left as they are).', schema: parse.int(1, 10_000),
  },
  topicReplicationFactor: {
    env: 'GPUMON_TOPIC_REPLICATION_FACTOR', flag: 'topic-replication-factor', default: '1', example: '3',
    description: 'Replication factor of each topic gpumon creates.', schema: parse.int(1, 16),
  },
} as const;

export type KafkaSettings = ConfigOf<typeof kafkaOptions>;

function sasl(settings: KafkaSettings): SASLOptions | undefined {
  if (settings.kafkaSaslMechanism === 'none') return undefined;
  if (settings.kafkaSaslUsername === undefined || settings.kafkaSaslPassword === undefined) {
    throw new GpumonError(
      'config_invalid',
      `KAFKA_SASL_MECHANISM=${settings.kafkaSaslMechanism} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
    );
  }
  return {
    mechanism: settings.kafkaSaslMechanism,
    username: settings.kafkaSaslUsername,
    password: settings.kafkaSaslPassword,
  } as SASLOptions;
}

const KAFKAJS_LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info', [logLevel.DEBUG]: 'debug',
};

/**
 * `failFast` makes a client that gives up after one retry and logs nothing: the start-up check
 * reports an unreachable broker in one line instead of a page of kafkajs reconnect errors, and the
 * agent's sender falls back to its spool at once, reporting the outage itself.
 */
export function createKafka(settings: KafkaSettings, clientId: string, failFast = false): Kafka {
  const log = createLogger(`${clientId}/kafkajs`);
  const config: KafkaConfig = {
    clientId,
    brokers: settings.kafkaBrokers,
    connectionTimeout: 5000,
    ...(failFast ? { retry: { retries: 1, initialRetryTime: 300 } } : {}),
    ssl: settings.kafkaSsl
      ? settings.kafkaSslCaFile !== undefined ? { ca: [readFileSync(settings.kafkaSslCaFile, 'utf8')] } : true
      : false,
    logLevel: failFast ? logLevel.NOTHING : logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      log[KAFKAJS_LEVELS[entry.level] ?? 'info'](message, fields);
    },
  };
  const mechanism = sasl(settings);
  if (mechanism !== undefined) config.sasl = mechanism;
  return new Kafka(config);
}

export { keyPartitioner } from './key-partitioner.js';

/**
 * A producer that makes one attempt per send; callers retry the whole send. kafkajs 2.2.4's own
 * retry skips the brokers that answered the first attempt, so records of a partition whose leader
 * moved to one of them were never sent, yet the send succeeded (faults/cluster.test.ts lost
 * acknowledged samples). `ordered` keeps one request in flight, so a retried send never lands
 * behind a later one.
 */
export function createProducer(kafka: Kafka, { ordered = false } = {}): Producer {
  return kafka.producer({
    createPartitioner: keyPartitioner, allowAutoTopicCreation: false, retry: { retries: 0 },
    ...(ordered ? { maxInFlightRequests: 1 } : {}),
  });
}

/** An admin client on a probe connection, checked with a real metadata request. */
export async function connectAdmin(settings: KafkaSettings, clientId: string): Promise<Admin> {
  const admin = createKafka(settings, clientId, true).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    throw new GpumonError(
      'service_unreachable',
      `cannot reach Kafka at ${settings.kafkaBrokers.join(',')}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  return admin;
}

/**
 * What gpumon reads of a cluster's offsets outside runtime (the status line, the demo): each
 * partition's end, a group's commits. Runtime's seam: the admin client of connectAdmin is one.
 */
export interface OffsetsAdmin {
  fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; high: string; low: string }>>;
  fetchOffsets(options: { groupId: string; topics: string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

/** Kafka's default max.message.bytes. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** The largest record batch `topic` takes: its max.message.bytes, the broker's default where the topic sets none. */
export async function maxMessageBytes(admin: Admin, topic: string): Promise<number> {
  const { resources } = await admin.describeConfigs({
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }], includeSynonyms: false,
  });
  const value = Number(resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
  if (!Number.isSafeInteger(value) || value <= 0) throw new GpumonError('service_unreachable', `topic ${topic}: the broker did not say its max.message.bytes`);
  return value;
}

/**
 * Creates the topics that are missing, with the configured partitions, and waits until each
 * partition has a leader; the broker's auto-create is never relied on.
 */
export async function ensureTopics(admin: Admin, settings: KafkaSettings, topics: readonly string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    // kafkajs would wait by asking only the broker that created them, and fail if that broker has
    // not heard of them yet, as happens in a cluster of several brokers.
    waitForLeaders: false,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: settings.topicPartitions,
      replicationFactor: settings.topicReplicationFactor,
    })),
  });
  await waitForLeaders(admin, missing);
  return missing;
}

/** Fails, naming them, when any of `topics` is missing: only the admin step `gpumon topics` creates topics. */
export async function requireTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length > 0) {
    throw new GpumonError('not_provisioned', `topic${missing.length === 1 ? '' : 's'} ${missing.join(', ')} missing; create ${missing.length === 1 ? 'it' : 'them'} with \`gpumon topics\` (an admin step)`);
  }
}

/**
 * Asks whichever broker answers until every partition of `topics` has a leader that answers as
 * one. New topics reach the brokers a moment apart, and a broker names itself leader in its
 * metadata a moment before it takes writes: a produce in between fails with NOT_LEADER_OR_FOLLOWER
 * for some partitions only, and kafkajs's retry of the whole request duplicates the others.
 * Offsets are answered by the leader alone, so a partition whose offsets come back takes writes.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let notYet: unknown;
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.every((t) => t.partitions.every((p) => p.leader >= 0))) {
        for (const topic of topics) await admin.fetchTopicOffsets(topic);
        return;
      }
    } catch (error) {
      notYet = error;
    }
    if (Date.now() > deadline) {
      throw new GpumonError('service_unreachable', `topics ${topics.join(',')} have no leader for every partition after ${timeoutMs} ms${notYet === undefined ? '' : `: ${errorMessage(notYet)}`}`, { cause: notYet });
    }
    await sleep(200);
  }
}
