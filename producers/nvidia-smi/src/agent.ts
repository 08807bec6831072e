import { existsSync, statSync } from 'node:fs';
import { hostname as machineHostname } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { loadCheckpoint, saveCheckpoint } from '@gpumon/features/checkpoint-file';
import { FeatureEngine } from '@gpumon/features/engine';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import type { ConfigOf } from '@gpumon/runtime/config';
import { Counters } from '@gpumon/runtime/counters';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import { connectAdmin, createKafka, createProducer, requireTopics, type KafkaSettings } from '@gpumon/runtime/kafka';
import type { Logger } from '@gpumon/runtime/log';
import { startMetricsServer } from '@gpumon/runtime/metrics';
import { createRegistryClient, type RegistrySettings } from '@gpumon/runtime/registry';
import { Spool } from '@gpumon/runtime/spool';
import { SpoolSender } from '@gpumon/runtime/spool-sender';
import { makeStateDir, setAside, type SetAsideHandler } from '@gpumon/runtime/state-file';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { agentOptions } from './agent-options.js';
import { attributeRound, type AttributionSettings } from './attribution/round.js';
import { collectNvidiaSmiXml } from './collect.js';
import { fitSample } from './fit-sample.js';
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
  const { samples: all, forgotten } = round.known.reconcile(parsed.samples, time);
  for (const gpu of forgotten) {
    round.log.info('GPU lost for longer than --forget-lost-after: no longer reported', { gpu: gpu.gpu_uuid, pci_bus_id: gpu.pci_bus_id, last_seen: new Date(gpu.time).toISOString() });
  }
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
    const known = new KnownGpus({ path: undefined, forgetLostAfterMs: settings.forgetLostAfter, onSetAside: () => undefined });
    const samples = await collectRound({ settings, hostname, known, features: new FeatureEngine(), xids: undefined, log, warned: new Set(), attribution }, Date.now());
    if (settings.output === 'json') printJsonLines(samples);
    else await sendOnce(settings, samples, log);
    return;
  }

  makeStateDir(settings.stateDir);
  warnIfStateDirIsOpen(settings.stateDir, log);
  const statePath = (name: string): string => join(settings.stateDir, name);
  const registry = new Registry();
  const counters = new Counters(registry, 'agent');
  const failures = new Counter({ name: 'gpumon_agent_collection_failures_total', help: 'Rounds with no samples, by reason.', labelNames: ['reason'], registers: [registry] });
  const xidFailures = new Counter({ name: 'gpumon_agent_xid_read_failures_total', help: 'Failed reads of the kernel log.', registers: [registry] });
  const attributionProblems = new Counter({ name: 'gpumon_agent_attribution_problems_total', help: 'Attribution left incomplete, by source (cgroup, environ, slurm-job-map, pod-resources, nvidia-smi-list) and reason.', labelNames: ['source', 'reason'], registers: [registry] });
  const duration = new Histogram({ name: 'gpumon_agent_collection_seconds', help: 'Time to collect and parse one round.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [registry] });
  const setAsideFiles = new Counter({ name: 'gpumon_agent_state_files_set_aside_total', help: 'State files (spool segments, known GPUs, feature windows) that could not be decoded and were renamed *.corrupt-<time>, by file.', labelNames: ['file'], registers: [registry] });
  const onSetAside: SetAsideHandler = ({ path, setAsideAs, error }) => {
    setAsideFiles.inc({ file: stateFileKind(path) });
    log.error('state file unreadable (torn or empty, as after a power cut): set aside, starting without it', { path, set_aside_as: setAsideAs, error: errorMessage(error) });
  };
  const trimmed = new Counter({ name: 'gpumon_agent_samples_trimmed_total', help: 'Samples over the agent\'s size bound whose attribution lists were cut to fit.', registers: [registry] });
  const refused = new Counter({ name: 'gpumon_agent_samples_refused_total', help: 'Samples Kafka refused as larger than the topic allows, given up.', registers: [registry] });
  const spool = new Spool(statePath('spool'), settings.spoolMaxMb * 1024 * 1024, onSetAside);
  new Gauge({ name: 'gpumon_agent_spooled_samples', help: 'Samples on disk waiting for Kafka.', registers: [registry], collect() { this.set(spool.stats().messages); } });
  // Bytes against the bound, so an alert can fire before the spool starts dropping the oldest samples.
  new Gauge({ name: 'gpumon_agent_spool_bytes', help: 'Bytes of samples on disk waiting for Kafka.', registers: [registry], collect() { this.set(spool.stats().bytes); } });
  new Gauge({ name: 'gpumon_agent_spool_limit_bytes', help: 'Bound of the spool (--spool-max-mb); beyond it the oldest samples are dropped.', registers: [registry], collect() { this.set(spool.maxBytes); } });

  const features = loadFeatures(statePath('features.json'), onSetAside);
  const round: Round = {
    settings, hostname, log, features, xidFailures, warned: new Set(), attribution, attributionProblems,
    known: new KnownGpus({ path: statePath('known-gpus.json'), forgetLostAfterMs: settings.forgetLostAfter, onSetAside }),
    xids: settings.xidSource === 'none' ? undefined : createXidSource(settings.xidSource),
  };

  let codec: TopicCodec<'samples'> | undefined;
  let sender: SpoolSender | undefined;
  if (settings.output === 'kafka') {
    codec = new TopicCodec(createRegistryClient(settings), 'samples', settings.topicPrefix);
    await lookupWithCache(codec, statePath('schema-id.json'), log);
    sender = new SpoolSender(spool, codec.topic, () => connectProducer(settings, codec!.topic), log, {
      sent: (n) => counters.add('sent', n),
      refused: (message, error) => {
        refused.inc();
        log.error('Kafka refuses a sample as larger than the topic allows: given up', { gpu: message.key.toString(), bytes: message.value.length, topic: codec!.topic, error: errorMessage(error) });
      },
    });
  }
  let lastSuccess = Date.now();
  const server = await startMetricsServer({ port: settings.metricsPort, address: settings.metricsAddress }, registry, async () => {
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
        const dropped = spool.append(samples.map((s) => {
          const fitted = fitSample(s, (sample) => codec!.encode(sample));
          if (fitted.trimmed !== undefined) {
            trimmed.inc();
            logOnce(round, `trimmed ${s.gpu_uuid}`, `GPU ${s.gpu_uuid}: ${fitted.trimmed}`);
          }
          return { key: Buffer.from(s.gpu_uuid), value: fitted.value };
        }));
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

/** The feature windows saved before; a checkpoint that does not decode is set aside and the windows start afresh. */
function loadFeatures(path: string, onSetAside: SetAsideHandler): FeatureEngine {
  try {
    return loadCheckpoint(path);
  } catch (error) {
    setAside(path, error, onSetAside);
    return new FeatureEngine();
  }
}

/** The `file` label of a set-aside state file: spool segments are many, one label for all. */
function stateFileKind(path: string): string {
  return path.endsWith('.seg') ? 'spool-segment' : basename(path);
}

/**
 * The state directory is created private (0700); one an operator made, or an older agent left,
 * open to others is only reported: it may be a directory shared with other things.
 */
function warnIfStateDirIsOpen(dir: string, log: Logger): void {
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    log.warn('state directory is open to other users; its files are private (0600), but chmod 700 it', { dir, mode: mode.toString(8) });
  }
}

/** A producer on a topic that exists, after a real metadata request; one attempt per send, in order: the spool sender retries. */
export async function connectProducer(settings: KafkaSettings, topic: string) {
  const admin = await connectAdmin(settings, 'agent');
  try {
    await requireTopics(admin, [topic]);
  } finally {
    await admin.disconnect();
  }
  const producer = createProducer(createKafka(settings, 'agent', true), { ordered: true });
  await producer.connect();
  return producer;
}

async function sendOnce(settings: AgentSettings, samples: readonly GpuSample[], log: Logger): Promise<void> {
  const codec = new TopicCodec(createRegistryClient(settings), 'samples', settings.topicPrefix);
  await codec.lookup();
  const producer = await connectProducer(settings, codec.topic);
  try {
    await producer.send({ topic: codec.topic, acks: -1, messages: samples.map((s) => ({ key: s.gpu_uuid, value: fitSample(s, (sample) => codec.encode(sample)).value })) });
    log.info('sent', { samples: samples.length, topic: codec.topic });
  } finally {
    await producer.disconnect();
  }
}
