import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfigOf } from '@gpumon/runtime/config';
import { Counters } from '@gpumon/runtime/counters';
import { DeadLetters } from '@gpumon/runtime/dead-letter';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { Logger } from '@gpumon/runtime/log';
import { Registry } from '@gpumon/runtime/metrics';
import { Pauses } from '@gpumon/runtime/pauses';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { sendDeadLetters, sendIsolating, type OutgoingMessage } from '@gpumon/runtime/send';
import { tickMessages, type EncodedTick } from './encoded-tick.js';
import { FleetWorkers } from './fleet-workers.js';
import { defaultWorkers, type simulatorOptions } from './options.js';
import { loadScenario } from './scenario.js';

export type SimulatorSettings = PipelineSettings & ConfigOf<typeof simulatorOptions>;

/**
 * GPUs a worker hands over at once, so records per produce request (a slice's last part may be
 * smaller), and requests in flight at once within a tick (each request a different set of GPUs):
 * enough to keep the broker busy while the next request is built.
 */
const SEND_SLICE = 2000;
const MAX_IN_FLIGHT = 4;

/** Streams the fleet's readings to gpu.samples.v1 until `signal` aborts or --ticks are done. */
export async function runSimulator(settings: SimulatorSettings, log: Logger, signal: AbortSignal): Promise<{ sent: number; deadLettered: number }> {
  // The scenario first: a bad one is a configuration error, found before any connection.
  const scenario = settings.scenario === undefined ? undefined : loadScenario(settings.scenario);
  const pipeline = await openPipeline(settings, 'simulator', ['samples'], log);
  const codec = pipeline.codecs.samples;
  const fleetOptions = {
    seed: settings.seed, hosts: settings.hosts, gpusPerHost: settings.gpusPerHost, hostPrefix: settings.hostPrefix,
    faultRateScale: settings.faultRateScale, scenario,
  };
  const fleet = new FleetWorkers(fleetOptions, settings.workers ?? defaultWorkers(), {
    topic: codec.topic, schemaId: codec.schemaId as number, part: SEND_SLICE,
  });
  let time = settings.clock === 'simulated' && settings.start !== undefined ? Date.parse(settings.start) : Date.now();
  let sent = 0;
  let deadLettered = 0;
  let queued = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const registry = new Registry();
  const context = { producer: pipeline.producer, log, signal, pauses: new Pauses(registry, 'simulator', log) };
  const deadLetters = new DeadLetters('simulator', pipeline.codecs.dlq, new Counters(registry, 'simulator'), log, pipeline.deadLetterMaxBytes);
  const send = (messages: OutgoingMessage[]): Promise<void> => {
    const groups = messages.map((message) => ({ item: message, messages: [{ topic: codec.topic, message }] }));
    const request = sendIsolating(`sending ${messages.length} samples`, groups, context)
      .then(async (refused) => {
        // A sample the broker refuses itself (too large, invalid) is a dead letter with the broker's reason; the rest of its slice is sent.
        const letters = refused.map(({ item, error }) =>
          deadLetters.unsent(codec.topic, item, new GpumonError('record_too_large', `${codec.topic} refused this sample: ${errorMessage(error)}`), 'record_too_large'));
        await sendDeadLetters(deadLetters.topic, letters, context);
        sent += messages.length - refused.length;
        deadLettered += refused.length;
      })
      // A stop gives up on a request; what was not acknowledged is not counted as sent.
      .catch((error: unknown) => {
        if (!signal.aborted) log.error(`${codec.topic} refused ${messages.length} samples`, { error: errorMessage(error) });
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
    return request;
  };

  log.info('simulating', {
    gpus: settings.hosts * settings.gpusPerHost, hosts: settings.hosts, workers: fleet.threads, interval_ms: settings.interval, clock: settings.clock,
    rate: settings.rate ?? 'unpaced', scenario: settings.scenario ?? 'none', fault_rate_scale: settings.faultRateScale, topic: codec.topic,
  });
  try {
    await fleet.ready;
    // A reading's time is when it is taken: a run without a given start begins once the workers are up.
    if (settings.clock !== 'simulated' || settings.start === undefined) time = Date.now();
    const more = (tick: number) => settings.ticks === undefined || tick < settings.ticks;
    let next = fleet.sample(time);
    /** Per part of a tick (every tick is cut into the same parts of the fleet's GPUs), its request of the last tick. */
    const lastOfPart: Array<Promise<void>> = [];
    for (let tick = 0; more(tick); tick++) {
      if (signal.aborted) break;
      const parts = next;
      // With the simulated clock the next tick's time is known: the workers model it right after this one, while this one is sent.
      if (settings.clock === 'simulated' && more(tick + 1)) next = fleet.sample(time + settings.interval);
      for (let part = 0; part < parts.length && !signal.aborted; part++) {
        // Each part is sent as soon as its worker has encoded it, while the worker encodes the next.
        const messages = tickMessages(await (parts[part] as Promise<EncodedTick>));
        if (settings.rate !== undefined) {
          const due = started + (queued / settings.rate) * 1000;
          await sleep(Math.max(0, due - performance.now()), undefined, { signal }).catch(() => undefined);
        }
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        // The same GPUs' records of the last tick are acknowledged first: two requests in flight may
        // be written in either order (one retried, one waiting for metadata).
        await lastOfPart[part];
        lastOfPart[part] = send(messages);
        queued += messages.length;
      }
      if (settings.clock === 'simulated') {
        time += settings.interval;
      } else {
        const due = time + settings.interval;
        await sleep(Math.max(0, due - Date.now()), undefined, { signal }).catch(() => undefined);
        time = Math.max(due, Date.now());
        if (more(tick + 1)) next = fleet.sample(time);
      }
    }
    await Promise.allSettled(inFlight);
  } finally {
    await fleet.close();
    await pipeline.close();
    log.info('stopped', { sent, dead_lettered: deadLettered });
  }
  return { sent, deadLettered };
}
