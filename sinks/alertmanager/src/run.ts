import type { ConfigOf } from '@gpumon/runtime/config';
import { runConsumer, type ConsumedMessage, type RunningConsumer, type SinkDefinition } from '@gpumon/runtime/consumer';
import { isRetriable } from '@gpumon/runtime/dead-letter';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';
import type { PipelineSettings } from '@gpumon/runtime/pipeline';
import { DEFAULT_BACKOFF, retryWhileRetriable } from '@gpumon/runtime/retry';
import type { OutgoingMessage } from '@gpumon/runtime/send';
import { postAlerts } from './alertmanager-client.js';
import { toPostableAlert, type PostableAlert } from './alertmanager-payload.js';
import { alertmanagerTarget, type AlertmanagerTarget } from './alertmanager-target.js';
import { deliverIsolating } from './deliver.js';
import type { alertmanagerOptions } from './options.js';

export type AlertForwarderSettings = PipelineSettings & ConfigOf<typeof alertmanagerOptions>;

const COMPONENT = 'alerts-forward';

/**
 * The forwarder as the consumer shell runs it. A batch's offsets are committed once each
 * Alertmanager has taken each of its alerts or refused it for good, in which case the alert alone
 * is a dead letter with the answer.
 */
function alertForwarder(targets: readonly AlertmanagerTarget[]): SinkDefinition<'alerts'> {
  return {
    component: COMPONENT,
    inputs: ['alerts'],
    close: () => Promise.resolve(),
    start: ({ deadLetters, sendDeadLetters, counters, log, signal, pauses }) => ({
      handle: async (batch) => {
        const letters: OutgoingMessage[] = [];
        // An alert that cannot be put in Alertmanager's shape (a date out of range) is refused here, alone.
        const ready: Array<{ message: ConsumedMessage; payload: PostableAlert }> = [];
        for (const { message, record } of batch.records) {
          try {
            ready.push({ message, payload: toPostableAlert(record) });
          } catch (error) {
            const why = new GpumonError('encode_failed', `alert ${record.alert_key} cannot be put in Alertmanager's shape: ${errorMessage(error)}`);
            letters.push(deadLetters.letter(message, why, 'encode_failed'));
          }
        }
        const outcomes = await Promise.allSettled(targets.map((target) => deliverIsolating(ready, (some) => retryWhileRetriable(
          `posting ${some.length} alerts to ${target.shown}`, () => postAlerts(target, some.map((r) => r.payload), signal), isRetriable, log, signal,
          DEFAULT_BACKOFF, pauses,
        ))));
        const refusals = new Map<(typeof ready)[number], string[]>();
        for (const outcome of outcomes) {
          // Only the stop ends a retry: nothing of this batch is committed, the next owner posts it again.
          if (outcome.status === 'rejected') throw outcome.reason;
          for (const { item, error } of outcome.value) refusals.set(item, [...refusals.get(item) ?? [], errorMessage(error)]);
        }
        for (const [{ message }, reasons] of refusals) letters.push(deadLetters.letter(message, new GpumonError('schema_rejected', reasons.join('; ')), 'schema_rejected'));
        counters.add('sent', ready.length - refusals.size);
        await sendDeadLetters(letters);
      },
    }),
  };
}

/** `gpumon alerts forward`: gpu.alerts.v1 → every configured Alertmanager. */
export async function runAlertForwarder(settings: AlertForwarderSettings, log: Logger): Promise<RunningConsumer> {
  const targets = settings.to.map(alertmanagerTarget);
  const running = await runConsumer(alertForwarder(targets), settings, log);
  log.info('forwarding alerts', { to: targets.map((t) => t.shown).join(',') });
  return running;
}
