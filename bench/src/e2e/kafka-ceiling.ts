import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const STACK = fileURLToPath(new URL('../../../infra/stack/stack.sh', import.meta.url));

export interface KafkaCeiling {
  producer_per_s: number;
  consumer_per_s: number;
}

function kafkaTool(args: string[]): string {
  const result = spawnSync('bash', [STACK, 'kafka-tool', ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`kafka-tool ${args[0]} exited with ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

/**
 * Kafka's own ceiling on this broker, measured with its perf tools (JVM clients, the same jars):
 * `records` records of `recordBytes` each, produced with acks=all into `topic`, then consumed
 * from it by a fresh group.
 */
export function measureKafkaCeiling(brokers: string, topic: string, records: number, recordBytes: number): KafkaCeiling {
  const produced = kafkaTool([
    'org.apache.kafka.tools.ProducerPerformance', '--topic', topic, '--num-records', String(records),
    '--record-size', String(recordBytes), '--throughput', '-1', '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all',
  ]);
  // Last line: "N records sent, R records/sec (M MB/sec), ..."
  const producerPerS = Number(/([\d.]+) records\/sec/.exec(produced.trim().split('\n').at(-1) ?? '')?.[1]);
  const consumed = kafkaTool([
    'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', brokers, '--topic', topic,
    '--messages', String(records), '--timeout', '60000',
  ]);
  // Header, then one CSV line: start.time, end.time, MB, MB.sec, nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const [header, line] = consumed.trim().split('\n').slice(-2).map((l) => l.split(',').map((f) => f.trim()));
  // fetch.nMsg.sec leaves out the group join, as the pipeline's own rate does.
  const consumerPerS = Number(line?.[header?.indexOf('fetch.nMsg.sec') ?? -1]);
  if (!Number.isFinite(producerPerS) || !Number.isFinite(consumerPerS)) {
    throw new Error(`could not read the perf tools' rates:\n${produced}\n${consumed}`);
  }
  return { producer_per_s: Math.round(producerPerS), consumer_per_s: Math.round(consumerPerS) };
}
