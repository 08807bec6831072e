import { Registry } from 'prom-client';
import type { ConfigOf } from '@gpumon/runtime/config';
import { startConsumerLoop } from '@gpumon/runtime/consumer-loop';
import { Counters } from '@gpumon/runtime/counters';
import { DeadLetters, decodeBatch, isRetriable } from '@gpumon/runtime/dead-letter';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';
import { startMetricsServer } from '@gpumon/runtime/metrics';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { Pauses } from '@gpumon/runtime/pauses';
import { DEFAULT_BACKOFF, retryWhileRetriable } from '@gpumon/runtime/retry';
import { validateRecord } from '@gpumon/runtime/sample-validation';
import { sendDeadLetters } from '@gpumon/runtime/send';
import { postAlerts } from './alertmanager-client.js';
import { toPostableAlert, type PostableAlert } from './alertmanager-payload.js';
import { alertmanagerTarget } from './alertmanager-target.js';
import { deliverIsolating } from './deliver.js';
import type { alertmanagerOptions } from './options.js';

export type AlertForwarderSettings = PipelineSettings & ConfigOf<typeof alertmanagerOptions>;

const COMPONENT = 'alerts-forward';

/**
 * `gpumon alerts forward`: gpu.alerts.v1 → every configured Alertmanager. A batch's offsets are
 * committed once each Alertmanager has taken each of its alerts or refused it for good, in which
 * case the alert alone is a dead letter with the answer.
 */
export async function runAlertForwarder(settings: AlertForwarderSettings, log: Logger) {
  const targets = settings.to.map(alertmanagerTarget);
  const pipeline = await openPipeline(settings, COMPONENT, ['alerts'], log);
  const registry = new Registry();
  const counters = new Counters(registry, COMPONENT);
  const deadLetters = new DeadLetters(COMPONENT, pipeline.codecs.dlq, counters, log, pipeline.deadLetterMaxBytes);
  const stopping = new AbortController();
  const pauses = new Pauses(registry, COMPONENT, log);
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
      // An alert that cannot be put in Alertmanager's shape (a date out of range) is refused here, alone.
      const ready: Array<{ message: (typeof decoded)[number]['message']; payload: PostableAlert }> = [];
      for (const { message, record } of decoded) {
        try {
          ready.push({ message, payload: toPostableAlert(record) });
        } catch (error) {
          const why = new GpumonError('encode_failed', `alert ${record.alert_key} cannot be put in Alertmanager's shape: ${errorMessage(error)}`);
          letters.push(deadLetters.letter(batch, message, why, 'encode_failed'));
        }
      }
      const outcomes = await Promise.allSettled(targets.map((target) => deliverIsolating(ready, (some) => retryWhileRetriable(
        `posting ${some.length} alerts to ${target.shown}`, () => postAlerts(target, some.map((r) => r.payload), stopping.signal), isRetriable, log, stopping.signal,
        DEFAULT_BACKOFF, pauses,
      ))));
      const refusals = new Map<(typeof ready)[number], string[]>();
      for (const outcome of outcomes) {
        // Only the stop ends a retry: nothing of this batch is committed, the next owner posts it again.
        if (outcome.status === 'rejected') throw outcome.reason;
        for (const { item, error } of outcome.value) refusals.set(item, [...refusals.get(item) ?? [], errorMessage(error)]);
      }
      for (const [{ message }, reasons] of refusals) letters.push(deadLetters.letter(batch, message, new GpumonError('schema_rejected', reasons.join('; ')), 'schema_rejected'));
      counters.add('sent', ready.length - refusals.size);
      await sendDeadLetters(deadLetters.topic, letters, { producer: pipeline.producer, log, signal: stopping.signal, pauses });
    },
  });
  const server = await startMetricsServer(settings.metricsPort, registry, async () => {
    pauses.check();
    await pipeline.admin.fetchTopicOffsets(pipeline.codecs.alerts.topic);
  }, log);
  log.info('forwarding alerts', { to: targets.map((t) => t.shown).join(',') });
  return {
    counters,
    done: running.done,
    stop: async () => {
      // The loop marks itself stopping first, so a post given up by the abort is not taken for a failure.
      const stopped = running.stop();
      stopping.abort();
      server?.close();
      await stopped;
      await pipeline.close();
      log.info('stopped', counters.snapshot());
    },
  };
}
