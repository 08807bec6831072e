import { Registry } from 'prom-client';
import type { ConfigOf } from '@gpumon/runtime/config';
import { startConsumerLoop } from '@gpumon/runtime/consumer-loop';
import { Counters } from '@gpumon/runtime/counters';
import { DeadLetters, decodeBatch, isRetriable } from '@gpumon/runtime/dead-letter';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';
import { startMetricsServer } from '@gpumon/runtime/metrics';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { retryWhileRetriable } from '@gpumon/runtime/retry';
import { validateRecord } from '@gpumon/runtime/sample-validation';
import type { GpuAlert } from '@gpumon/schemas/types.generated';
import { toPostableAlert } from './alertmanager-payload.js';
import type { alertmanagerOptions } from './options.js';

export type AlertForwarderSettings = PipelineSettings & ConfigOf<typeof alertmanagerOptions>;

const COMPONENT = 'alerts-forward';

/** Posts alerts; a 5xx or a network failure is retried, a 4xx means Alertmanager refuses them for good. */
async function post(url: string, alerts: GpuAlert[]): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts.map(toPostableAlert)), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new GpumonError('service_unreachable', `cannot reach Alertmanager at ${url}: ${errorMessage(error)}`, { cause: error });
  }
  if (response.ok) return;
  const body = (await response.text()).slice(0, 300);
  throw new GpumonError(response.status >= 500 ? 'service_unreachable' : 'schema_rejected', `Alertmanager at ${url} answered ${response.status}: ${body}`);
}

/** `gpumon alerts forward`: gpu.alerts.v1 → Alertmanager, offsets committed only once Alertmanager has taken the batch. */
export async function runAlertForwarder(settings: AlertForwarderSettings, log: Logger) {
  const url = `${settings.to.replace(/\/+$/, '')}/api/v2/alerts`;
  const pipeline = await openPipeline(settings, COMPONENT, ['alerts'], log);
  const registry = new Registry();
  const counters = new Counters(registry, COMPONENT);
  const deadLetters = new DeadLetters(COMPONENT, pipeline.codecs.dlq, counters, log);
  const stopping = new AbortController();
  const running = await startConsumerLoop({
    registry,
    kafka: pipeline.kafka,
    groupId: settings.groupId,
    topics: [pipeline.codecs.alerts.topic],
    fromBeginning: settings.fromBeginning,
    log,
    handleBatch: async (batch) => {
      const { decoded, letters } = await decodeBatch(batch, (v) => pipeline.codecs.alerts.decode(v), deadLetters, counters, log, stopping.signal,
        (record, message) => validateRecord('alerts', record, Number(message.timestamp)));
      if (decoded.length > 0) {
        try {
          await retryWhileRetriable(`posting ${decoded.length} alerts`, () => post(url, decoded.map((d) => d.record)), isRetriable, log, stopping.signal);
          counters.add('sent', decoded.length);
        } catch (error) {
          if (isRetriable(error)) throw error;
          for (const { message } of decoded) letters.push(deadLetters.letter(batch, message, error, 'schema_rejected'));
        }
      }
      if (letters.length > 0) {
        await retryWhileRetriable('sending dead letters', () => pipeline.producer.send({ topic: deadLetters.topic, messages: letters, acks: -1 }), () => true, log, stopping.signal);
      }
    },
  });
  const server = await startMetricsServer(settings.metricsPort, registry, async () => {
    await pipeline.admin.fetchTopicOffsets(pipeline.codecs.alerts.topic);
  }, log);
  log.info('forwarding alerts', { to: url });
  return {
    counters,
    done: running.done,
    stop: async () => {
      stopping.abort();
      server?.close();
      await running.stop();
      await pipeline.close();
      log.info('stopped', counters.snapshot());
    },
  };
}
