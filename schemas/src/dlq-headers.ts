/**
 * The Kafka headers of every gpu.dlq.v1 record: the facts of the DeadLetter value again, so a
 * subscriber can route or count dead letters without decoding them. runtime's DeadLetters sets
 * exactly these; the topic contract (asyncapi.json) documents them from here.
 */
export const DLQ_HEADERS = {
  'gpumon.component': 'The component that gave up on the record (sink-timescaledb, score-health, …).',
  'gpumon.source.topic': 'Topic the record was read from.',
  'gpumon.source.partition': 'Partition it was read from (decimal).',
  'gpumon.source.offset': 'Its offset there (decimal).',
  'gpumon.error.code': 'Why, as a code (decode_failed, validation_failed, transform_failed, …).',
  'gpumon.error.message': 'Why, in words: names the field, GPU or table concerned.',
} as const;

export type DlqHeader = keyof typeof DLQ_HEADERS;
