import type { Kafka } from 'kafkajs';
import { STREAMS, topicName, valueSubject, type Stream } from '@gpumon/schemas/topics';
import type { SchemaRegistryClient } from './registry.js';

/**
 * Removes the topics of a topic prefix that exist, and their schema subjects (soft, then hard
 * delete): what a test or benchmark run leaves behind on a shared cluster.
 */
export async function removeTopics(kafka: Kafka, registry: SchemaRegistryClient, prefix: string, streams: readonly Stream[] = STREAMS): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    await admin.deleteTopics({ topics: streams.map((s) => topicName(s, prefix)).filter((t) => existing.has(t)) });
  } finally {
    await admin.disconnect();
  }
  for (const stream of streams) {
    const subject = valueSubject(topicName(stream, prefix));
    await registry.deleteSubject(subject, false).catch(() => undefined);
    await registry.deleteSubject(subject, true).catch(() => undefined);
  }
}
