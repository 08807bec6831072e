import { createServer } from 'node:net';
import type { Kafka } from 'kafkajs';
import type { SchemaRegistryClient } from '@gpumon/runtime/registry';
import { STREAMS, topicName, valueSubject, type Stream } from '@gpumon/schemas/topics';

/** A TCP port nothing listens on right now, for a process's metrics endpoint or a test server. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Removes a test run's topics (those that exist) and their schema subjects, so runs leave nothing behind. */
export async function removeRun(kafka: Kafka, registry: SchemaRegistryClient, prefix: string, streams: readonly Stream[] = STREAMS): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics());
  await admin.deleteTopics({ topics: streams.map((s) => topicName(s, prefix)).filter((t) => existing.has(t)) });
  await admin.disconnect();
  for (const stream of streams) {
    const subject = valueSubject(topicName(stream, prefix));
    await registry.deleteSubject(subject, false).catch(() => undefined);
    await registry.deleteSubject(subject, true).catch(() => undefined);
  }
}
