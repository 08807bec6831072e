import { createServer, type Server } from 'node:http';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions, keyPartitioner } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { schemaOf } from '@gpumon/schemas/avro';
import { RECORD_BOUNDS, SAMPLE_MAX_AGE_MS, SAMPLE_MAX_SKEW_MS, type BoundedStream } from '@gpumon/schemas/sample-bounds';
import { topicName, type Stream } from '@gpumon/schemas/topics';
import type { DeadLetter, GpuAlert, StreamRecords } from '@gpumon/schemas/types.generated';
import { toPostableAlert } from '@gpumon/sink-alertmanager/alertmanager-payload';
import { eventually, provisionTopics, startCli, type CliProcess } from '../cli-process.js';
import { readRecords } from '../read-topic.js';
import { TABLES, ofHosts } from '../records.js';
import { SAMPLE_CONSUMERS, STAGES, expectedRecords, startSimulator } from '../whole-pipeline.js';
import { awaitConsuming, distinctLetters, expectStillRunning, faultRun, letterKey, startStages, stopAll } from './fault-run.js';
import { countRows, expectEachRecordOnce, removeRows, tallyWhenCaughtUp } from './tally.js';

/**
 * Hostile input on every topic a consumer reads, while the whole pipeline runs and good samples
 * flow: frames that are not Avro, that name no schema, end early, or announce 2×10⁸ items or a
 * 2 GiB string; and schema-valid records whose numbers cannot be true (NaN, ±∞, ±10¹², negative
 * power or cost, a time a month ahead or past every retention). Every one is one dead letter per
 * consumer of its topic with its reason; no process dies; every group drains; no table gains a
 * row outside the bounds, nor gpu_devices a GPU; every good record is written exactly once and
 * every good alert reaches Alertmanager (a local receiver stands in for it).
 */
const run = faultRun('hostile', 32);
const prefix = run.env.GPUMON_TOPIC_PREFIX;
const kafka = createKafka(loadConfig(kafkaOptions), 'e2e-faults');
const admin = kafka.admin();
const registry = createRegistryClient(loadConfig(registryOptions));
const pool = createPool(loadConfig(databaseOptions));
const processes: CliProcess[] = [];
const SINK = 'sink-timescaledb';
const FORWARDER = 'alerts-forward';
const forwarderGroup = `${prefix}alerts-forward`;
const DAY_MS = 86_400_000;

type SinkStream = Exclude<Stream, 'dlq'>;

/** One hostile record, and the dead letter's code and message every consumer of its topic must give for it. */
interface Hostile {
  what: string;
  value: Buffer;
  code: 'decode_failed' | 'validation_failed';
  message: RegExp;
}

/** The components that consume a stream, as they name themselves in dead letters. */
const consumersOf = (stream: SinkStream): string[] =>
  (stream === 'samples' ? SAMPLE_CONSUMERS : stream === 'alerts' ? [FORWARDER, SINK] : [SINK]);

/** The group each component of this run consumes in, and what it reads. */
const GROUPS: Array<{ group: string; topics: string[] }> = [
  ...STAGES.map((stage) => ({
    group: `${prefix.replace(/\.$/, '')}-${stage}`,
    topics: stage === 'sink' ? TABLES.map(([stream]) => topicName(stream, prefix)) : [topicName('samples', prefix)],
  })),
  { group: forwarderGroup, topics: [topicName('alerts', prefix)] },
];

const longBytes = (n: number): Buffer => avro.Type.forSchema('long').toBuffer(n);

/** The Avro body of `record`'s fields before field `index`: where a frame crafted to break at that field starts. */
function bodyBefore(stream: SinkStream, record: object, index: number): Buffer {
  const schema = schemaOf(stream);
  const leading = avro.Type.forSchema({ ...schema, name: `${schema.name}Leading`, fields: schema.fields.slice(0, index) } as avro.Schema);
  return leading.toBuffer(record);
}

/**
 * The malformed frames of one stream, each built from `real`, a record of it: the registry's own
 * header before bodies that must be refused before avsc allocates anything for them.
 */
function malformed(codec: TopicCodec<SinkStream>, real: object): Hostile[] {
  const whole = codec.encode(real as never);
  const header = whole.subarray(0, 5);
  const fields = schemaOf(codec.stream).fields;
  const collection = fields.findLastIndex((f) => [f.type].flat().some((t) => typeof t === 'object' && !Array.isArray(t) && (t.type === 'array' || t.type === 'map')));
  const uuid = fields.findIndex((f) => f.name === 'gpu_uuid');
  const frames: Hostile[] = [
    { what: 'garbage', value: Buffer.from('hostile: {"not": "avro"} \u0000\u00ff'), code: 'decode_failed', message: /^not a Confluent Avro message/ },
    { what: 'no magic byte', value: Buffer.concat([Buffer.from([1]), whole.subarray(1)]), code: 'decode_failed', message: /^not a Confluent Avro message/ },
    // Schema id 2147483632, which the registry never handed out.
    { what: 'unknown schema id', value: Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0]), whole.subarray(5)]), code: 'decode_failed', message: /^writer schema 2147483632 of / },
    { what: 'truncated', value: whole.subarray(0, Math.ceil(whole.length / 2)), code: 'decode_failed', message: /^cannot decode with writer schema \d+: / },
    {
      what: 'a string announcing 2^31 bytes',
      value: Buffer.concat([header, bodyBefore(codec.stream, real, uuid), longBytes(2 ** 31), Buffer.from('GPU-')]),
      code: 'decode_failed', message: /^cannot decode with writer schema \d+: gpu_uuid: 2147483648 bytes announced, 4 left/,
    },
  ];
  // Not every stream has a list or map; each one that has is sent its last one announcing 2×10⁸ items, then ending.
  if (collection >= 0) {
    frames.push({
      what: `${fields[collection]!.name} announcing 2×10⁸ items`,
      value: Buffer.concat([header, bodyBefore(codec.stream, real, collection), longBytes(200_000_000)]),
      code: 'decode_failed', message: new RegExp(`^cannot decode with writer schema \\d+: ${fields[collection]!.name}: 200000000 items announced, 0 bytes left`),
    });
  }
  return frames;
}

/** Per stream, absurd values of its fields, each one a schema-valid record of its own (Avro longs and ints cannot be NaN). */
const ABSURD: Record<SinkStream, Array<[path: string, value: number]>> = {
  samples: [['power_draw_w', Number.NaN], ['temperature_gpu_c', Infinity], ['utilization_gpu_pct', -Infinity], ['memory_used_mib', -1e12], ['clock_sm_mhz', 1e12], ['power_draw_w', -50]],
  health: [['score', -5], ['score', 1000], ['reasons[].penalty', -1]],
  anomalies: [['value', Number.NaN], ['baseline', Infinity], ['score', -Infinity], ['value', -1e12], ['baseline', -1e12]],
  economics: [['energy_kwh', Number.NaN], ['efficiency', Infinity], ['co2e_kg', -Infinity], ['used_cost_micros', -1e12], ['energy_kwh', 1e12], ['idle_cost_micros', -1]],
  predictions: [['probability', Number.NaN], ['threshold', Infinity], ['probability', -Infinity], ['expected_cost_micros', -1e12], ['probability', 1e12], ['top_features[].contribution', -1]],
  alerts: [['starts_at', -1e12], ['ends_at', 1e14]],
};

/** `real` with the value at `path` (each item's, through a list) set to `value`. */
function withValue(real: object, path: string, value: number): Record<string, unknown> {
  const [field, item] = path.split('[].') as [string, string | undefined];
  const record = structuredClone(real) as Record<string, unknown>;
  record[field] = item === undefined ? value : (record[field] as Array<Record<string, unknown>>).map((x) => ({ ...x, [item]: value }));
  return record;
}

/**
 * The schema-valid absurd records of one stream, from `real`: its GPU is a phantom (on a host of
 * the run), so a row of one would show in the tallies and in gpu_devices.
 */
function absurd(codec: TopicCodec<SinkStream>, real: object, phantom: string): Hostile[] {
  const now = Date.now();
  const base = { ...real, gpu_uuid: phantom };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ...ABSURD[codec.stream].map(([path, value]): [string, Record<string, unknown>, RegExp] => {
      const b = RECORD_BOUNDS[codec.stream as BoundedStream][path]!;
      return [`${path}=${value}`, withValue(base, path, value), new RegExp(`${path.replace(/[[\].]/g, '\\$&')}=${value} outside \\[${b.min}, ${b.max}\\]`)];
    }),
    ['a month ahead', { ...base, time: now + SAMPLE_MAX_SKEW_MS + 30 * DAY_MS }, /is more than a day after the message was written/],
    ['before every retention', { ...base, time: now - SAMPLE_MAX_AGE_MS - 30 * DAY_MS }, /is more than 395 days before the message was written/],
  ];
  return cases.map(([what, record, message]) => ({ what, value: codec.encode(record as never), code: 'validation_failed', message }));
}

/** A dead letter a consumer must write for one hostile record. */
interface WantedLetter {
  component: string;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  error_code: string;
  error_message: RegExp;
}

/** Sends the hostile records of every stream a consumer reads, one at a time, each keyed by a real GPU so it lands among that GPU's records. */
async function inject(expected: Map<Stream, unknown[]>): Promise<WantedLetter[]> {
  const producer = kafka.producer({ createPartitioner: keyPartitioner });
  await producer.connect();
  const wanted: WantedLetter[] = [];
  try {
    for (const [stream] of TABLES) {
      const codec = new TopicCodec(registry, stream, prefix);
      await codec.lookup();
      const records = expected.get(stream)! as Array<StreamRecords[SinkStream]>;
      // One with an item in each list, so the absurd item values and the crafted counts have something to break.
      const real = records.find((r) => Object.values(r).every((v) => !Array.isArray(v) || v.length > 0)) ?? records[0]!;
      const hostile = [...malformed(codec, real), ...absurd(codec, real, `GPU-${prefix}phantom-${stream}`)];
      for (const { value, code, message } of hostile) {
        const [sent] = await producer.send({ topic: codec.topic, acks: -1, messages: [{ key: real.gpu_uuid, value }] });
        for (const component of consumersOf(stream)) {
          wanted.push({ component, source_topic: codec.topic, source_partition: sent!.partition, source_offset: Number(sent!.baseOffset), error_code: code, error_message: message });
        }
      }
    }
  } finally {
    await producer.disconnect();
  }
  return wanted;
}

/** Records each group has yet to commit, over the topics it reads. */
async function lag({ group, topics }: { group: string; topics: string[] }): Promise<number> {
  let behind = 0;
  for (const topic of topics) {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) behind += Number(high) - Math.max(at.get(partition) ?? -1, Number(low));
  }
  return behind;
}

/** Rows of `table` on the run's hosts with a number outside its stream's bounds (NaN and ±Infinity included: PostgreSQL sorts them outside any range). */
async function rowsOutOfBounds(stream: SinkStream, table: string): Promise<number> {
  const { rows: columns } = await pool.query<{ name: string; type: string }>(
    'SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = $1', [table]);
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const outside = Object.entries(RECORD_BOUNDS[stream]).filter(([path]) => types.has(path)).map(([path, b]) => {
    const value = types.get(path)!.startsWith('timestamp') ? `extract(epoch FROM ${path}) * 1000` : path;
    return `${value} NOT BETWEEN ${b.min} AND ${b.max}`;
  });
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${ofHosts(table, 'LIKE $1')} AND (${outside.join(' OR ')})`, [run.hosts]);
  return rows[0]!.n;
}

/** A stand-in for Alertmanager: takes every post and keeps the alerts. */
async function alertReceiver(): Promise<{ server: Server; url: string; posted: unknown[] }> {
  const posted: unknown[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      posted.push(...(JSON.parse(text) as unknown[]));
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, posted };
}

let receiver: Awaited<ReturnType<typeof alertReceiver>> | undefined;

afterAll(async () => {
  const stuck = await stopAll(processes);
  receiver?.server.close();
  await admin.disconnect();
  await removeRows(pool, run.hosts);
  await pool.end();
  await removeTopics(kafka, registry, prefix);
  expect(stuck, 'stages that did not stop on SIGTERM').toEqual([]);
});

describe('faults: hostile input', () => {
  it('malformed frames and absurd records on every consumed topic: each a dead letter per consumer with its reason, nothing died, every group drained, no impossible row, every good record once', async () => {
    const expected = await expectedRecords(run);
    await provisionTopics(run.env);
    await admin.connect();
    receiver = await alertReceiver();
    const stages = await startStages(run);
    const forwarder = startCli(['alerts', 'forward', '--to', receiver.url, '--group', forwarderGroup], run.env);
    const running = new Map([...stages, [FORWARDER, forwarder]]);
    processes.push(...running.values());
    await awaitConsuming(new Map([[FORWARDER, forwarder]]));
    const simulate = startSimulator(run);
    processes.push(simulate);
    const logs = (): string => [...running].map(([name, p]) => `--- ${name}\n${p.output().slice(-3000)}`).join('\n');

    const samples = expected.get('samples')!.length;
    await eventually('a quarter of the samples written', async () => ((await countRows(pool, 'gpu_samples', run.hosts)) >= samples / 4 ? true : undefined));
    expect(simulate.child.exitCode, 'the simulator is still sending').toBeNull();
    const wanted = await inject(expected);
    expect(await simulate.exited, simulate.output()).toBe(0);

    const tallies = await tallyWhenCaughtUp(pool, run.hosts, expected);
    await eventually('every group drained', async () => ((await Promise.all(GROUPS.map(lag))).every((n) => n === 0) ? true : undefined), 120_000,
      () => `${GROUPS.map((g) => g.group).join(', ')}\n${logs()}`);
    expectStillRunning(running);

    // Every letter is in by now (a group commits a batch once its letters are sent): all of them, none left behind unread.
    const total = (await admin.fetchTopicOffsets(topicName('dlq', prefix))).reduce((sum, o) => sum + Number(o.high), 0);
    const read = await readRecords<DeadLetter>(kafka, new TopicCodec(registry, 'dlq', prefix), `${prefix}dlq-reader`, total);
    const letters = distinctLetters(read);
    for (const [stream] of TABLES) {
      const topic = topicName(stream, prefix);
      const mine = (l: { source_topic: string }): boolean => l.source_topic === topic;
      console.log(`faults/hostile ${topic}: hostile ${new Set(wanted.filter(mine).map((w) => w.source_offset)).size} dead letters wanted ${wanted.filter(mine).length} `
        + `got ${letters.filter(mine).length} (${read.filter(mine).length} with repeats)`);
    }
    expect(letters.map((l) => ({ ...l, value: undefined })), logs()).toEqual(wanted.sort((a, b) => letterKey(a).localeCompare(letterKey(b))).map((w) => expect.objectContaining({
      ...w, error_message: expect.stringMatching(w.error_message),
    })));

    expectEachRecordOnce('faults/hostile', tallies, logs);
    for (const [stream, table] of TABLES) expect(await rowsOutOfBounds(stream, table), `${table} rows outside their bounds`).toBe(0);
    const devices = await pool.query<{ gpu_uuid: string }>('SELECT gpu_uuid FROM gpu_devices WHERE hostname LIKE $1 ORDER BY gpu_uuid', [run.hosts]);
    expect(devices.rows.map((d) => d.gpu_uuid), 'gpu_devices: the fleet\'s GPUs, no phantom').toEqual([...new Set(expected.get('samples')!.map((s) => (s as { gpu_uuid: string }).gpu_uuid))].sort());
    // Alertmanager deduplicates what a replay posts again: each good alert at least once, no other.
    const posted = new Set(receiver.posted.map((a) => JSON.stringify(a)));
    expect(posted).toEqual(new Set((expected.get('alerts') as GpuAlert[]).map((a) => JSON.stringify(toPostableAlert(a)))));
    expectStillRunning(running);
    // Still whole: each stops cleanly on SIGTERM.
    const codes = await Promise.all([...running].map(async ([name, p]) => [name, await p.stop()] as const));
    expect(Object.fromEntries(codes), logs()).toEqual(Object.fromEntries([...running.keys()].map((name) => [name, 0])));
  });
});
