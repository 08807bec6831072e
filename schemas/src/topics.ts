/**
 * Every gpumon topic. The version is part of the name: an incompatible change gets a new topic,
 * compatible ones evolve the schema under BACKWARD compatibility. Key = GPU UUID on all of them.
 */
export const TOPICS = {
  samples: 'gpu.samples.v1',
  health: 'gpu.health.v1',
  anomalies: 'gpu.anomalies.v1',
  predictions: 'gpu.predictions.v1',
  economics: 'gpu.economics.v1',
  alerts: 'gpu.alerts.v1',
  dlq: 'gpu.dlq.v1',
} as const;

export type Stream = keyof typeof TOPICS;

export const STREAMS = Object.keys(TOPICS) as Stream[];

export function topicName(stream: Stream, prefix = ''): string {
  return `${prefix}${TOPICS[stream]}`;
}

/** Confluent's TopicNameStrategy: the value schema of topic T lives under subject "T-value". */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
