import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from 'kafkajs';
import type { ConfigOf } from '@gpumon/runtime/config';
import type { Logger } from '@gpumon/runtime/log';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { errorMessage } from '@gpumon/runtime/errors';
import { isRetriableSend } from '@gpumon/runtime/kafka-errors';
import { retryWhileRetriable } from '@gpumon/runtime/retry';
import { SimulatedFleet } from './fleet.js';
import type { simulatorOptions } from './options.js';
import { loadScenario } from './scenario.js';

export type SimulatorSettings = PipelineSettings & ConfigOf<typeof simulatorOptions>;

/** Records per produce request, and requests in flight at once: enough to keep the broker busy while the next slice is encoded. */
const SEND_SLICE = 2000;
const MAX_IN_FLIGHT = 4;

/** Streams the fleet's readings to gpu.samples.v1 until `signal` aborts or --ticks are done. */
export async function runSimulator(settings: SimulatorSettings, log: Logger, signal: AbortSignal): Promise<{ sent: number }> {
  // The fleet first: a bad scenario is a configuration error, found before any connection.
  const fleet = new SimulatedFleet({ ...settings, scenario: settings.scenario === undefined ? undefined : loadScenario(settings.scenario) });
  const pipeline = await openPipeline(settings, 'simulator', ['samples'], log);
  const codec = pipeline.codecs.samples;
  let time = settings.clock === 'simulated' && settings.start !== undefined ? Date.parse(settings.start) : Date.now();
  let sent = 0;
  let queued = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const send = (messages: Message[]): Promise<void> => {
    const request = retryWhileRetriable('sending samples', () => pipeline.producer.send({ topic: codec.topic, messages, acks: -1 }), isRetriableSend, log, signal)
      // A stop gives up on a request, and the broker refusing the records does; what was not acknowledged is not counted as sent.
      .then(() => { sent += messages.length; }, (error: unknown) => {
        if (!signal.aborted) log.error(`${codec.topic} refused ${messages.length} samples`, { error: errorMessage(error) });
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
    return request;
  };

  log.info('simulating', {
    gpus: fleet.gpus.length, hosts: settings.hosts, interval_ms: settings.interval, clock: settings.clock,
    rate: settings.rate ?? 'unpaced', scenario: settings.scenario ?? 'none', fault_rate_scale: settings.faultRateScale, topic: codec.topic,
  });
  try {
    for (let tick = 0; settings.ticks === undefined || tick < settings.ticks; tick++) {
      if (signal.aborted) break;
      const samples = fleet.sample(time);
      for (let i = 0; i < samples.length && !signal.aborted; i += SEND_SLICE) {
        const messages = samples.slice(i, i + SEND_SLICE).map((s) => ({ key: s.gpu_uuid, value: codec.encode(s) }));
        if (settings.rate !== undefined) {
          const due = started + (queued / settings.rate) * 1000;
          await sleep(Math.max(0, due - performance.now()), undefined, { signal }).catch(() => undefined);
        }
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        void send(messages);
        queued += messages.length;
      }
      if (settings.clock === 'simulated') {
        time += settings.interval;
      } else {
        const next = time + settings.interval;
        await sleep(Math.max(0, next - Date.now()), undefined, { signal }).catch(() => undefined);
        time = Math.max(next, Date.now());
      }
    }
    await Promise.allSettled(inFlight);
  } finally {
    await pipeline.close();
    log.info('stopped', { sent });
  }
  return { sent };
}
