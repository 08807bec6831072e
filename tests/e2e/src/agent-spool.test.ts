import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { connectProducer } from '@gpumon/nvidia-smi/agent';
import { loadConfig } from '@gpumon/runtime/config';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createLogger } from '@gpumon/runtime/log';
import { Spool, type SpooledMessage } from '@gpumon/runtime/spool';
import { SpoolSender } from '@gpumon/runtime/spool-sender';
import { eventually } from './cli-process.js';

/**
 * The agent's spool sender on the real broker: a sample the topic refuses as too large is given up,
 * counted, and never holds the spool (it was retried for ever, and every later sample spooled behind it).
 * faults/agent-producer.test.ts shows its producer makes one attempt per send.
 */
const run = randomBytes(3).toString('hex');
const settings = loadConfig(kafkaOptions, { topicPartitions: '1' });
const kafka = createKafka(settings, 'e2e-agent-spool');
const admin = kafka.admin();
const topics: string[] = [];
const work = mkdtempSync(`${tmpdir()}/gpumon-agent-spool-`);

/** A topic of one partition with `configs`, made before the agent's producer sees it. */
async function topicWith(name: string, configs: Record<string, string>): Promise<string> {
  const topic = `e2e-agent-spool-${run}-${name}`;
  topics.push(topic);
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 1, replicationFactor: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }],
  });
  return topic;
}

afterAll(async () => {
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  rmSync(work, { recursive: true, force: true });
});

describe('the agent\'s spool sender, on the real broker', () => {
  it('sends the rest of a segment and gives up only the sample the topic refuses as too large', async () => {
    const topic = await topicWith('too-large', { 'max.message.bytes': '20000' });
    const message = (key: string, bytes: number): SpooledMessage => ({ key: Buffer.from(key), value: Buffer.alloc(bytes, key) });
    const spool = new Spool(`${work}/spool`, 1 << 20, () => expect.unreachable());
    spool.append([message('GPU-a', 100), message('GPU-huge', 50_000), message('GPU-b', 100)]);
    spool.append([message('GPU-c', 100)]);
    const refused: string[] = [];
    let sent = 0;
    const stop = new AbortController();
    const sender = new SpoolSender(spool, topic, () => connectProducer(settings, topic), createLogger('e2e-agent-spool'), {
      sent: (n) => void (sent += n),
      refused: (m) => void refused.push(m.key.toString()),
    });
    const sending = sender.run(stop.signal);
    try {
      await eventually('the spool drained', async () => (spool.stats().segments === 0 ? true : undefined));
    } finally {
      stop.abort();
      await sending;
    }
    expect(refused).toEqual(['GPU-huge']);
    expect(sent).toBe(3);
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.map((o) => o.high)).toEqual(['3']);
  });
});
