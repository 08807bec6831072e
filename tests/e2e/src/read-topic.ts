import type { Kafka } from 'kafkajs';
import type { TopicCodec } from '@gpumon/runtime/avro-codec';
import type { Stream } from '@gpumon/schemas/topics';
import { eventually } from './cli-process.js';

/** Reads `codec`'s topic from its start in consumer group `groupId` until `count` records are decoded. */
export async function readRecords<T>(kafka: Kafka, codec: TopicCodec<Stream>, groupId: string, count: number): Promise<T[]> {
  const consumer = kafka.consumer({ groupId });
  const out: T[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: codec.topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void out.push((await codec.decode(message.value)) as T) });
  await eventually(`${count} records on ${codec.topic}`, async () => (out.length >= count ? true : undefined));
  await consumer.disconnect();
  return out;
}
