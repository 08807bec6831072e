import { parentPort, workerData } from 'node:worker_threads';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import { createRegistryClient } from '@gpumon/runtime/registry';
import { encodeTick } from './encoded-tick.js';
import { SimulatedFleet } from './fleet.js';
import type { FleetSlice } from './fleet-workers.js';

/**
 * A simulator worker thread: owns a slice of the fleet's GPUs (their models and feature windows),
 * and answers each tick time with that slice's encoded records, their buffer transferred.
 */
const { fleet: options, registry, topicPrefix, schemaId } = workerData as FleetSlice;
const fleet = new SimulatedFleet(options);
const codec = new TopicCodec(createRegistryClient(registry), 'samples', topicPrefix);
codec.assumeRegistered(schemaId);
parentPort?.on('message', (timeMs: number) => {
  const tick = encodeTick(fleet, codec, timeMs);
  parentPort?.postMessage(tick, [tick.values]);
});
