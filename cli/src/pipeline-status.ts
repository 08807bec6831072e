import type pg from 'pg';
import type { OffsetsAdmin } from '@gpumon/runtime/kafka';
import { topicName, type Stream } from '@gpumon/schemas/topics';
import { COLOCATED_PROCESSORS, CONSUMER_STAGES, SINK, SPLIT_PROCESSORS, processorStages, type ProcessorLayout } from './components.js';

/** Consumer groups whose progress the status view follows, with the streams each one reads: both layouts' processors. */
export const WATCHED_GROUPS: ReadonlyArray<{ group: string; streams: readonly Stream[] }> = CONSUMER_STAGES.map(({ group, streams }) => ({ group, streams }));

export interface StatusSnapshot {
  at: number;
  /** Records ever written to each stream's topic (sum of partition end offsets). */
  written: Partial<Record<Stream, number>>;
  /** Per watched group: records committed (processed and acknowledged) and lag behind the end. */
  groups: Record<string, { committed: number; lag: number }>;
  /** GPUs whose latest verdict in the last minute is FAIL. */
  failingGpus: number | null;
  /** GPUs whose latest failure prediction of the last day is at or above its threshold (gpu_at_risk). */
  atRiskGpus: number | null;
}

async function endOffsets(admin: OffsetsAdmin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

export async function readStatus(admin: OffsetsAdmin, pool: pg.Pool | null, prefix: string, streams: readonly Stream[]): Promise<StatusSnapshot> {
  const ends = new Map<string, Map<number, number>>();
  const written: Partial<Record<Stream, number>> = {};
  for (const stream of streams) {
    const topic = topicName(stream, prefix);
    const offsets = await endOffsets(admin, topic).catch(() => new Map<number, number>());
    ends.set(topic, offsets);
    written[stream] = [...offsets.values()].reduce((a, b) => a + b, 0);
  }
  const groups: StatusSnapshot['groups'] = {};
  for (const { group, streams: read } of WATCHED_GROUPS) {
    let committed = 0;
    let lag = 0;
    const topics = read.map((stream) => topicName(stream, prefix)).filter((topic) => ends.has(topic));
    const byTopic = await admin.fetchOffsets({ groupId: group, topics }).catch(() => []);
    for (const { topic, partitions } of byTopic) {
      for (const { partition, offset } of partitions) {
        // A partition the group has not committed on yet (-1) is behind by all of it.
        const done = Math.max(0, Number(offset));
        committed += done;
        lag += (ends.get(topic)?.get(partition) ?? 0) - done;
      }
    }
    groups[group] = { committed, lag };
  }
  const result = pool === null ? null : await pool
    .query<{ failing: string; at_risk: string }>(
      `SELECT (SELECT count(*) FROM (
                SELECT DISTINCT ON (gpu_uuid) verdict FROM gpu_health
                WHERE time > now() - interval '1 minute' ORDER BY gpu_uuid, time DESC) latest
               WHERE verdict = 'FAIL') AS failing,
              (SELECT count(DISTINCT gpu_uuid) FROM gpu_at_risk) AS at_risk`,
    )
    .catch(() => null);
  const row = result?.rows[0];
  return {
    at: Date.now(), written, groups,
    failingGpus: row === undefined ? null : Number(row.failing),
    atRiskGpus: row === undefined ? null : Number(row.at_risk),
  };
}

function rate(now: number, before: number, seconds: number): string {
  return `${Math.max(0, Math.round((now - before) / seconds))}/s`;
}

/** The layout a running pipeline's processors are in: split once a processor's own group has committed more than the co-located one. */
export function layoutInUse(snapshot: StatusSnapshot): ProcessorLayout {
  const committed = (group: string): number => snapshot.groups[group]?.committed ?? 0;
  return SPLIT_PROCESSORS.some((s) => committed(s.group) > committed(COLOCATED_PROCESSORS.group)) ? 'split' : 'co-located';
}

/** One line: records/s into each stage, consumer lag (of the processors in `layout`), DLQ total, failing GPUs. */
export function formatStatus(previous: StatusSnapshot, current: StatusSnapshot, layout: ProcessorLayout): string {
  const seconds = Math.max(0.001, (current.at - previous.at) / 1000);
  const written = (s: Stream): string => rate(current.written[s] ?? 0, previous.written[s] ?? 0, seconds);
  const parts = [`samples ${written('samples')}`];
  for (const { group, outputs } of processorStages(layout)) parts.push(`${outputs.map((s) => `${s} ${written(s)}`).join(' ')} lag ${current.groups[group]?.lag ?? 0}`);
  parts.push(`alerts ${written('alerts')}`);
  const sink = current.groups[SINK.group];
  const sinkBefore = previous.groups[SINK.group];
  parts.push(`db ${rate(sink?.committed ?? 0, sinkBefore?.committed ?? 0, seconds).replace('/s', ' rows/s')} lag ${sink?.lag ?? 0}`);
  parts.push(`dlq ${current.written.dlq ?? 0}`);
  if (current.failingGpus !== null) parts.push(`failing GPUs ${current.failingGpus}`);
  if (current.atRiskGpus !== null) parts.push(`at risk ${current.atRiskGpus}`);
  return parts.join(' | ');
}
