import type { KafkaMessage } from 'kafkajs';
import type { DeadLetter } from '@gpumon/schemas/types.generated';
import { GpumonError, errorMessage } from './errors.js';

/** The whole original message and why `component` gave up on it. */
export function deadLetter(
  component: string,
  topic: string,
  partition: number,
  message: KafkaMessage,
  error: unknown,
  fallbackCode: string,
): DeadLetter {
  return {
    time: Date.now(),
    component,
    source_topic: topic,
    source_partition: partition,
    source_offset: Number(message.offset),
    key: message.key ?? null,
    value: message.value ?? null,
    error_code: error instanceof GpumonError ? error.code : fallbackCode,
    error_message: errorMessage(error),
  };
}
