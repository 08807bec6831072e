import { parse } from '@gpumon/runtime/config';
import { consumerOptions } from '@gpumon/runtime/consumer';
import { DEFAULT_METRICS_PORTS } from '@gpumon/runtime/metrics';
import { writerDatabaseUrl } from '@gpumon/runtime/database';
import { TABLE_NAMES, type SinkStream } from './tables.js';

const SINK_STREAMS = Object.keys(TABLE_NAMES) as [SinkStream, ...SinkStream[]];

export const sinkOptions = {
  streams: {
    env: 'GPUMON_SINK_STREAMS', flag: 'streams', default: SINK_STREAMS.join(','), example: 'samples,health',
    description: `Streams to write, comma-separated: ${SINK_STREAMS.join(', ')}.`,
    schema: parse.string().transform((v) => v.split(',').map((s) => s.trim())).pipe(
      parse.oneOf(SINK_STREAMS).array().min(1),
    ),
  },
  ...consumerOptions('GPUMON_SINK', { group: 'gpumon-sink-timescaledb', metricsPort: DEFAULT_METRICS_PORTS['sink-timescaledb'], fromBeginning: 'true' }),
  batchRows: {
    env: 'GPUMON_SINK_BATCH_ROWS', flag: 'batch-rows', default: '5000', example: '20000',
    description: 'Most rows per database write; records of several partitions of one table are written together up to this many. Also the most records the sink holds that are not yet committed: it fetches no more until their writes are in.',
    schema: parse.int(1, 1_000_000),
  },
  batchWait: {
    env: 'GPUMON_SINK_BATCH_WAIT', flag: 'batch-wait', default: '100ms', example: '1s',
    description: 'Longest a record waits for others to fill its write: the broker holds a fetch this long for more data, and a partly filled write goes out after it.',
    schema: parse.durationMs(),
  },
  statementTimeout: {
    env: 'GPUMON_SINK_STATEMENT_TIMEOUT', flag: 'statement-timeout', default: '60s', example: '5m',
    description: 'Longest one database statement of a write may run (a COPY blocked on a lock included) before the server cancels it; the sink then pauses and retries, so a stalled write shows instead of holding its partition silently.',
    schema: parse.durationMs(),
  },
  databaseUrl: writerDatabaseUrl,
} as const;
