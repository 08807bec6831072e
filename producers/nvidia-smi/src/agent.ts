import { existsSync, mkdirSync } from 'node:fs';
import { hostname as machineHostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { loadCheckpoint, saveCheckpoint } from '@gpumon/features/checkpoint-file';
import { FeatureEngine } from '@gpumon/features/engine';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import type { ConfigOf } from '@gpumon/runtime/config';
import { Counters } from '@gpumon/runtime/counters';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import { connectAdmin, createKafka, keyPartitioner, requireTopics, type KafkaSettings } from '@gpumon/runtime/kafka';
import type { Logger } from '@gpumon/runtime/log';
import { startMetricsServer } from '@gpumon/runtime/metrics';
import { createRegistryClient, type RegistrySettings } from '@gpumon/runtime/registry';
import { Spool } from '@gpumon/runtime/spool';
import { SpoolSender } from '@gpumon/runtime/spool-sender';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { agentOptions } from './agent-options.js';
import { attributeRound, type AttributionSettings } from './attribution/round.js';
import { collectNvidiaSmiXml } from './collect.js';
import { createXidSource, type KernelLogXidSource } from './kernel-log-sources.js';
import { KnownGpus } from './known-gpus.js';
import { parseNvidiaSmiXml } from './parse.js';
import { lookupWithCache } from './schema-id-cache.js';
import { assignXidEvents } from './xid.js';

export type AgentSettings = KafkaSettings & RegistrySettings & ConfigOf<typeof agentOptions>;

interface Round {
  settings: AgentSettings;
  hostname: string;
  known: KnownGpus;
  features: FeatureEngine;
  xids: KernelLogXidSource | undefined;
  log: Logger;
  warned: Set<string>;
  xidFailures?: Counter;
  /** Undefined when attribution is off. */
  attribution: AttributionSettings | undefined;
  attributionProblems?: Counter;
}

/** The same oddity repeats every round; say it once. */
function logOnce(round: Round, key: string, message: string, level: 'info' | 'warn' = 'warn'): void {
  if (!round.warned.has(key)) round.log[level](message);
  round.warned.add(key);
}

/** Every GPU of the host at `time`: nvidia-smi's readings, a lost record per vanished GPU, new Xid events, features. */
async function collectRound(round: Round, time: number): Promise<GpuSample[]> {
  const xml = await collectNvidiaSmiXml({ command: round.settings.nvidiaSmi, timeoutMs: round.settings.collectTimeout });
  const parsed = parseNvidiaSmiXml(xml, { hostname: round.hostname, time });
  for (const warning of parsed.warnings) logOnce(round, warning, warning);
  const all = round.known.reconcile(parsed.samples, time);
  const events = round.xids === undefined ? [] : await round.xids.read().catch((error: unknown) => {
    round.xidFailures?.inc();
    round.log.warn('cannot read Xid events', { error: errorMessage(error) });
    return [];
  });
  const { samples, unmatched } = assignXidEvents(all, events);
  for (const event of unmatched) round.log.warn('Xid event for a PCI address with no GPU on this host', { ...event });
  const attributed = round.attribution === undefined ? samples : await attribute(round, round.attribution, samples);
  return attributed.map((sample) => ({ ...sample, features: round.features.update(sample) }));
}

/** Lost GPUs are attributed too: the pods and jobs holding a GPU that fell off the bus are the ones it hit. */
async function attribute(round: Round, settings: AttributionSettings, samples: GpuSample[]): Promise<GpuSample[]> {
  const result = await attributeRound(samples, settings);
  for (const line of result.absent) logOnce(round, line, line, 'info');
  for (const problem of result.problems) {
    round.attributionProblems?.inc({ source: problem.source, reason: problem.reason });
    // Pids come and go: one line per kind of per-process problem keeps the log (and this set) bounded.
    logOnce(round, problem.pid === undefined ? problem.message : `${problem.source}: ${problem.reason}`, problem.message);
  }
  return result.samples;
}

function attributionSettings(settings: AgentSettings): AttributionSettings | undefined {
  if (!settings.attribution) return undefined;
  if (!existsSync(settings.procRoot)) {
    throw new GpumonError('config_invalid', `--proc-root ${settings.procRoot} does not exist (mount the host's /proc there, or set --attribution false)`);
  }
  return {
    procRoot: settings.procRoot,
    slurmJobMapDir: settings.slurmJobMapDir,
    podResourcesSocket: settings.podResourcesSocket,
    podResourcesTimeoutMs: settings.podResourcesTimeout,
    cluster: settings.cluster ?? null,
    nvidiaSmi: settings.nvidiaSmi,
    nvidiaSmiTimeoutMs: settings.collectTimeout,
    defaults: {
      slurmJobMapDir: settings.slurmJobMapDir === agentOptions.slurmJobMapDir.default,
      podResourcesSocket: settings.podResourcesSocket === agentOptions.podResourcesSocket.default,
    },
  };
}

function printJsonLines(samples: readonly GpuSample[]): void {
  for (const sample of samples) process.stdout.write(`${JSON.stringify(sample)}\n`);
}

/**
 * `gpumon agent`: collects every GPU of the host each interval. Collection never waits for Kafka:
 * each round is written to an on-disk spool first and a separate sender drains the spool, so a
 * broker outage or an agent restart loses nothing within the spool's bound.
 */
export async function runAgent(settings: AgentSettings, log: Logger, signal: AbortSignal): Promise<void> {
  if (settings.collectTimeout >= settings.interval) {
    throw new GpumonError('config_invalid', `--collect-timeout (${settings.collectTimeout} ms) must be shorter than --interval (${settings.interval} ms), so a hung nvidia-smi never delays the next round`);
  }
  const hostname = settings.hostname ?? machineHostname();
  const attribution = attributionSettings(settings);
  if (settings.once) {
    const samples = await collectRound({ settings, hostname, known: new KnownGpus(undefined), features: new FeatureEngine(), xids: undefined, log, warned: new Set(), attribution }, Date.now());
    if (settings.output === 'json') printJsonLines(samples);
    else await sendOnce(settings, samples, log);
    return;
  }

  mkdirSync(settings.stateDir, { recursive: true });
  const statePath = (name: string): string => join(settings.stateDir, name);
  const registry = new Registry();
  const counters = new Counters(registry, 'agent');
  const failures = new Counter({ name: 'gpumon_agent_collection_failures_total', help: 'Rounds with no samples, by reason.', labelNames: ['reason'], registers: [registry] });
  const xidFailures = new Counter({ name: 'gpumon_agent_xid_read_failures_total', help: 'Failed reads of the kernel log.', registers: [registry] });
  const attributionProblems = new Counter({ name: 'gpumon_agent_attribution_problems_total', help: 'Attribution left incomplete, by source (cgroup, environ, slurm-job-map, pod-resources, nvidia-smi-list) and reason.', labelNames: ['source', 'reason'], registers: [registry] });
  const duration = new Histogram({ name: 'gpumon_agent_collection_seconds', help: 'Time to collect and parse one round.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [registry] });
  const spool = new Spool(statePath('spool'), settings.spoolMaxMb * 1024 * 1024);
  new Gauge({ name: 'gpumon_agent_spooled_samples', help: 'Samples on disk waiting for Kafka.', registers: [registry], collect() { this.set(spool.stats().messages); } });

  const features = loadFeatures(statePath('features.json'), log);
  const round: Round = {
    settings, hostname, log, features, xidFailures, warned: new Set(), attribution, attributionProblems,
    known: new KnownGpus(statePath('known-gpus.json')),
    xids: settings.xidSource === 'none' ? undefined : createXidSource(settings.xidSource),
  };

  let codec: TopicCodec<'samples'> | undefined;
  let sender: SpoolSender | undefined;
  if (settings.output === 'kafka') {
    codec = new TopicCodec(createRegistryClient(settings), 'samples', settings.topicPrefix);
    await lookupWithCache(codec, statePath('schema-id.json'), log);
    sender = new SpoolSender(spool, codec.topic, () => connectProducer(settings, codec!.topic), log, (n) => counters.add('sent', n));
  }
  let lastSuccess = Date.now();
  const server = await startMetricsServer(settings.metricsPort, registry, async () => {
    if (Date.now() - lastSuccess > 3 * settings.interval) throw new Error(`no successful collection for ${Math.round((Date.now() - lastSuccess) / 1000)} s`);
  }, log);
  const sending = sender?.run(signal);
  log.info('collecting', { host: hostname, interval_ms: settings.interval, state: settings.stateDir, spooled: spool.stats().messages });

  while (!signal.aborted) {
    const time = Date.now();
    const stopTimer = duration.startTimer();
    try {
      const samples = await collectRound(round, time);
      stopTimer();
      lastSuccess = Date.now();
      counters.add('received', samples.length);
      if (codec !== undefined) {
        const dropped = spool.append(samples.map((s) => ({ key: Buffer.from(s.gpu_uuid), value: codec!.encode(s) })));
        if (dropped > 0) {
          counters.add('dropped', dropped);
          log.warn('spool full: dropped the oldest samples', { dropped, bound_mb: settings.spoolMaxMb });
        }
        sender?.wake();
      } else {
        printJsonLines(samples);
      }
      saveCheckpoint(statePath('features.json'), features);
      round.known.save();
    } catch (error) {
      failures.inc({ reason: error instanceof GpumonError ? error.code : 'unexpected' });
      log.error('collection failed; trying again next round', { error: errorMessage(error) });
    }
    // Rounds stay on the interval grid whatever one took, so readings of a fleet line up in time.
    const next = Math.ceil((Date.now() + 1) / settings.interval) * settings.interval;
    await sleep(next - Date.now(), undefined, { signal }).catch(() => undefined);
  }
  await sending;
  server?.close();
  log.info('stopped', { ...counters.snapshot(), spooled: spool.stats().messages });
}

function loadFeatures(path: string, log: Logger): FeatureEngine {
  try {
    return loadCheckpoint(path);
  } catch (error) {
    log.warn('feature checkpoint unreadable; starting the windows afresh', { path, error: errorMessage(error) });
    return new FeatureEngine();
  }
}

/** An idempotent producer on a topic that exists, after a real metadata request. */
async function connectProducer(settings: KafkaSettings, topic: string) {
  const admin = await connectAdmin(settings, 'agent');
  try {
    await requireTopics(admin, [topic]);
  } finally {
    await admin.disconnect();
  }
  const producer = createKafka(settings, 'agent', true).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyPartitioner });
  await producer.connect();
  return producer;
}

async function sendOnce(settings: AgentSettings, samples: readonly GpuSample[], log: Logger): Promise<void> {
  const codec = new TopicCodec(createRegistryClient(settings), 'samples', settings.topicPrefix);
  await codec.lookup();
  const producer = await connectProducer(settings, codec.topic);
  try {
    await producer.send({ topic: codec.topic, acks: -1, messages: samples.map((s) => ({ key: s.gpu_uuid, value: codec.encode(s) })) });
    log.info('sent', { samples: samples.length, topic: codec.topic });
  } finally {
    await producer.disconnect();
  }
}
