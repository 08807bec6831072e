import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { createPool, databaseOptions } from '@gpumon/runtime/database';
import { createKafka, kafkaOptions } from '@gpumon/runtime/kafka';
import { createRegistryClient, registryOptions } from '@gpumon/runtime/registry';
import { removeTopics } from '@gpumon/runtime/remove-topics';
import { STREAMS, topicName } from '@gpumon/schemas/topics';
import { eventually, provisionTopics, type CliProcess } from '../cli-process.js';
import { privateKafkaCluster, type PrivateKafkaCluster } from '../private-stack.js';
import { expectedRecords, startSimulator } from '../whole-pipeline.js';
import { faultRun, startStages } from './fault-run.js';
import { countRows, expectEachRecordOnce, removeRows, tallyWhenCaughtUp } from './tally.js';

/**
 * A private three-node Kafka cluster (replication factor 3, min.insync.replicas=2) loses a node
 * mid-stream: its active controller, which also leads partitions of every topic, is killed
 * (SIGKILL) and started again a while later. Every stage keeps running, and every record is in
 * every table exactly once.
 */
const base = faultRun('cluster', 64);
// 16 GPUs at 64 samples/s, a tick every 250 ms: a minute of stream, to lose a node and get it back mid-way.
const TICKS = 240;
/**
 * kafkajs cannot follow its group coordinator to another broker: it restarts as a new member, and
 * the new coordinator waits for the old one for a session timeout. The shortest the broker allows.
 */
const STAGE_ARGS = ['--session-timeout', '6s'];
/** How long the node stays down: the quorum fences it after 9 s, then its partitions and groups move. */
const DOWN_MS = 30_000;
const pool = createPool(loadConfig(databaseOptions));
const processes: CliProcess[] = [];
let cluster: PrivateKafkaCluster | undefined;
let clusterUp = false;

afterAll(async () => {
  try {
    await Promise.all(processes.map((p) => p.stop()));
    await removeRows(pool, base.hosts);
    await pool.end();
    // The topics go with the cluster; their schemas are in the shared registry.
    if (clusterUp) await removeTopics(createKafka(loadConfig(kafkaOptions, { kafkaBrokers: cluster!.brokers }), 'e2e-faults'), createRegistryClient(loadConfig(registryOptions)), base.env.GPUMON_TOPIC_PREFIX);
  } finally {
    await cluster?.remove();
  }
});

/** Per partition of the run's topics: its leader and how many replicas are in sync. */
async function partitions(admin: Admin, topics: string[]): Promise<Array<{ leader: number; replicas: number; isr: number }>> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
  return metadata.flatMap((t) => t.partitions.map((p) => ({ leader: p.leader, replicas: p.replicas.length, isr: p.isr.length })));
}

describe('faults: a Kafka node lost', () => {
  it('the active controller of a three-node cluster killed mid-stream and restarted: every record exactly once in every table', async () => {
    const started = await privateKafkaCluster();
    cluster = started;
    await started.up();
    clusterUp = true;
    const run = { ...base, ticks: TICKS, env: { ...base.env, KAFKA_BROKERS: started.brokers, GPUMON_TOPIC_REPLICATION_FACTOR: '3' } };
    const topics = STREAMS.map((s) => topicName(s, run.env.GPUMON_TOPIC_PREFIX));
    const admin = createKafka(loadConfig(kafkaOptions, { kafkaBrokers: started.brokers }), 'e2e-faults-cluster').admin();
    await admin.connect();
    try {
      const expected = await expectedRecords(run);
      await provisionTopics(run.env);
      // Three copies of each partition, and an acknowledged write is on two of them: losing one node loses nothing.
      expect((await partitions(admin, topics)).filter((p) => p.replicas !== 3 || p.isr !== 3)).toEqual([]);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['min.insync.replicas'] })),
      });
      expect(configs.resources.map((r) => r.configEntries[0]?.configValue)).toEqual(topics.map(() => '2'));

      const stages = await startStages(run, STAGE_ARGS);
      processes.push(...stages.values());
      const simulate = startSimulator(run);
      processes.push(simulate);
      const samples = expected.get('samples')!.length;
      await eventually('a quarter of the samples written', async () => ((await countRows(pool, 'gpu_samples', run.hosts)) >= samples / 4 ? true : undefined));

      const victim = await started.controller();
      const led = (await partitions(admin, topics)).filter((p) => p.leader === victim).length;
      expect(led, `node ${victim} leads partitions`).toBeGreaterThan(0);
      await started.kill(victim);
      const killedAt = Date.now();
      expect(simulate.child.exitCode, 'the simulator is still sending').toBeNull();
      await eventually(`node ${victim}'s partitions led by the others`, async () => {
        const now = await partitions(admin, topics).catch(() => []);
        return now.length > 0 && now.every((p) => p.leader !== victim) ? true : undefined;
      });
      const movedS = ((Date.now() - killedAt) / 1000).toFixed(1);
      const writtenWhenMoved = await countRows(pool, 'gpu_samples', run.hosts);
      await eventually('samples written with the node down', async () => ((await countRows(pool, 'gpu_samples', run.hosts)) > writtenWhenMoved ? true : undefined), killedAt + DOWN_MS - Date.now());
      const resumedS = ((Date.now() - killedAt) / 1000).toFixed(1);
      console.log(`faults/cluster killed node ${victim} (the active controller, leader of ${led} partitions): partitions moved after ${movedS} s, samples written again after ${resumedS} s`);
      await new Promise((resolve) => setTimeout(resolve, killedAt + DOWN_MS - Date.now()));
      await started.start(victim);

      expect(await simulate.exited, simulate.output()).toBe(0);
      const tallies = await tallyWhenCaughtUp(pool, run.hosts, expected);
      for (const [stage, p] of stages) expect(p.child.exitCode, `${stage} exited:\n${p.output()}`).toBeNull();
      await eventually(`node ${victim} back in sync`, async () => ((await partitions(admin, topics)).every((p) => p.isr === 3) ? true : undefined));
      expectEachRecordOnce('faults/cluster', tallies, () => [...stages].map(([stage, p]) => `--- ${stage} (last 3 KB) ---\n${p.output().slice(-3072)}`).join('\n'));
    } finally {
      await admin.disconnect();
    }
  });
});
