import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { topicName, type Stream } from '@gpumon/schemas/topics';
import type { DeadLetter, StreamRecords } from '@gpumon/schemas/types.generated';
import { eventually, provisionTopics, type CliProcess } from '../cli-process.js';
import { readRecords } from '../read-topic.js';
import { TABLES } from '../records.js';
import { SAMPLE_CONSUMERS, expectedRecords, startSimulator } from '../whole-pipeline.js';
import { distinctLetters, expectStillRunning, faultRun, letterKey, startStages, stopAll } from './fault-run.js';
import { countRows, expectEachRecordOnce, removeRows, tallyWhenCaughtUp } from './tally.js';

/**
 * Poison on every topic the pipeline consumes, mid-stream: garbage bytes, a schema id no registry
 * handed out, and a record that decodes but its consumer must refuse. Each goes to gpu.dlq.v1 from
 * each consumer of its topic, naming topic, partition and offset, and everything else flows.
 */
const run = faultRun('poison', 32);
const prefix = run.env.GPUMON_TOPIC_PREFIX;
const kafka = createKafka(loadConfig(kafkaOptions), 'e2e-faults');
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
const processes: CliProcess[] = [];
const SINK = 'sink-timescaledb';

/** A dead letter a consumer must write for one poison record. */
interface WantedLetter {
  component: string;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  value: Buffer;
  error_code: string;
  error_message: RegExp;
}

type SinkStream = Exclude<Stream, 'dlq'>;

/** A poison record, and the dead letter's error code and message each consumer must give for it. */
interface Poison {
  value: Buffer;
  reason(component: string): [code: string, message: RegExp];
}

/**
 * The poison of one stream. The refused record is a real one made impossible for the consumers'
 * sample validation (negative power: every consumer of samples refuses it, the sink too) and
 * unstorable for PostgreSQL (a NUL byte in its host name: the sink refuses the other streams' for
 * that), stamped before the run so that, were it written, it would match no real row's key.
 */
function poisonOf(codec: TopicCodec<SinkStream>, table: string, real: StreamRecords[SinkStream]): Poison[] {
  const refused = { ...real, time: run.start - run.intervalMs, hostname: `${real.hostname}\u0000`, ...(codec.stream === 'samples' ? { power_draw_w: -50 } : {}) };
  return [
    { value: Buffer.from('poison: not an Avro record'), reason: () => ['decode_failed', /^not a Confluent Avro message/] },
    // Schema id 2147483632, which the registry never handed out.
    { value: Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]), reason: () => ['decode_failed', /^writer schema 2147483632 of /] },
    {
      value: codec.encode(refused),
      reason: (component) => (component === SINK && codec.stream !== 'samples'
        ? ['database_rejected', new RegExp(`^${table}: SQLSTATE 22021: invalid byte sequence`)]
        : ['validation_failed', /power_draw_w=-50 outside \[0, 5000\]/]),
    },
  ];
}

/** Sends the poison of every stream the sink writes, one record at a time, keyed by a real GPU so it lands among that GPU's records. */
async function inject(expected: Map<Stream, unknown[]>): Promise<WantedLetter[]> {
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  const wanted: WantedLetter[] = [];
  try {
    for (const [stream, table] of TABLES) {
      const codec = new TopicCodec(registry, stream, prefix);
      await codec.register();
      const real = expected.get(stream)![0] as StreamRecords[SinkStream];
      for (const { value, reason } of poisonOf(codec, table, real)) {
        const [sent] = await producer.send({ topic: codec.topic, acks: -1, messages: [{ key: real.gpu_uuid, value }] });
        for (const component of stream === 'samples' ? SAMPLE_CONSUMERS : [SINK]) {
          const [error_code, error_message] = reason(component);
          wanted.push({ component, source_topic: codec.topic, source_partition: sent!.partition, source_offset: Number(sent!.baseOffset), value, error_code, error_message });
        }
      }
    }
  } finally {
    await producer.disconnect();
  }
  return wanted;
}

afterAll(async () => {
  const stuck = await stopAll(processes);
  await removeRows(pool, run.hosts);
  await pool.end();
  await removeTopics(kafka, registry, prefix);
  expect(stuck, 'stages that did not stop on SIGTERM').toEqual([]);
});

describe('faults: poison messages', () => {
  it('each poison record on each consumed topic is dead-lettered by each consumer with its reason; every table still exact', async () => {
    const expected = await expectedRecords(run);
    await provisionTopics(run.env);
    const stages = await startStages(run);
    processes.push(...stages.values());
    const simulate = startSimulator(run);
    processes.push(simulate);

    const samples = expected.get('samples')!.length;
    await eventually('a quarter of the samples written', async () => ((await countRows(pool, 'gpu_samples', run.hosts)) >= samples / 4 ? true : undefined));
    expect(simulate.child.exitCode, 'the simulator is still sending').toBeNull();
    const wanted = await inject(expected);
    expect(await simulate.exited, simulate.output()).toBe(0);

    const read = await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', prefix), `${prefix}dlq-reader`, wanted.length);
    const letters = distinctLetters(read);
    for (const [stream] of TABLES) {
      const topic = topicName(stream, prefix);
      console.log(`faults/poison ${topic}: injected ${wanted.filter((w) => w.source_topic === topic && w.component === SINK).length} dead letters ${letters.filter((l) => l.source_topic === topic).length}`);
    }
    expect(letters).toMatchObject(wanted.sort((a, b) => letterKey(a).localeCompare(letterKey(b)))
      .map((w) => ({ ...w, error_message: expect.stringMatching(w.error_message) })));

    expectEachRecordOnce('faults/poison', await tallyWhenCaughtUp(pool, run.hosts, expected));
    expectStillRunning(stages);
  });
});
