import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfigOf } from '@gpumon/runtime/config';
import type { Logger } from '@gpumon/runtime/log';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { retryWhileRetriable } from '@gpumon/runtime/retry';
import { SimulatedFleet } from './fleet.js';
import type { simulatorOptions } from './options.js';

export type SimulatorSettings = PipelineSettings & ConfigOf<typeof simulatorOptions>;

/** Kafka takes a few thousand records per request comfortably; larger fleets are sent in slices. */
const SEND_SLICE = 5000;

/** Streams the fleet's readings to gpu.samples.v1 until `signal` aborts or --ticks are done. */
export async function runSimulator(settings: SimulatorSettings, log: Logger, signal: AbortSignal): Promise<{ sent: number }> {
  const pipeline = await openPipeline(settings, 'simulator', ['samples'], log);
  const codec = pipeline.codecs.samples;
  const fleet = new SimulatedFleet(settings);
  const intervalS = settings.interval / 1000;
  let time = settings.clock === 'simulated' && settings.start !== undefined ? Date.parse(settings.start) : Date.now();
  let sent = 0;
  log.info('simulating', { gpus: fleet.gpus.length, interval_ms: settings.interval, clock: settings.clock, topic: codec.topic });
  try {
    for (let tick = 0; settings.ticks === undefined || tick < settings.ticks; tick++) {
      if (signal.aborted) break;
      const samples = fleet.sample(time, intervalS);
      for (let i = 0; i < samples.length; i += SEND_SLICE) {
        const messages = samples.slice(i, i + SEND_SLICE).map((s) => ({ key: s.gpu_uuid, value: codec.encode(s) }));
        await retryWhileRetriable('sending samples', () => pipeline.producer.send({ topic: codec.topic, messages, acks: -1 }), () => true, log, signal);
        sent += messages.length;
      }
      if (settings.clock === 'simulated') {
        time += settings.interval;
      } else {
        const next = time + settings.interval;
        await sleep(Math.max(0, next - Date.now()), undefined, { signal }).catch(() => undefined);
        time = Math.max(next, Date.now());
      }
    }
  } finally {
    await pipeline.close();
    log.info('stopped', { sent });
  }
  return { sent };
}
