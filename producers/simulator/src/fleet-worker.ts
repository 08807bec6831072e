import { parentPort, workerData } from 'node:worker_threads';
import { RecordEncoder } from '@gpumon/runtime/avro-encoder';
import { encodeTick } from './encoded-tick.js';
import { SimulatedFleet } from './fleet.js';
import { READY, type FleetSlice } from './fleet-workers.js';

/**
 * A simulator worker thread: owns a slice of the fleet's GPUs (their models and feature windows),
 * and answers each tick time with that slice's encoded records, `part` GPUs a message, each
 * message's buffer transferred as soon as it is encoded, so that the sending thread sends the
 * first part while the thread encodes the next.
 */
const { fleet: options, topic, schemaId, part } = workerData as FleetSlice;
const fleet = new SimulatedFleet(options);
const encoder = new RecordEncoder(topic, 'samples', schemaId);
parentPort?.postMessage(READY);
parentPort?.on('message', (timeMs: number) => {
  for (let from = 0; from < fleet.gpus.length; from += part) {
    const tick = encodeTick(fleet, encoder, timeMs, from, Math.min(from + part, fleet.gpus.length));
    parentPort?.postMessage(tick, [tick.values]);
  }
});
