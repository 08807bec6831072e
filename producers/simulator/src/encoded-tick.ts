import type { TopicCodec } from '@gpumon/runtime/avro-codec';
import type { SimulatedFleet } from './fleet.js';

/**
 * One tick of a run of the fleet's GPUs, Avro-encoded: the records' values back to back in one
 * ArrayBuffer, so that a worker thread hands them to the sending thread without a copy.
 */
export interface EncodedTick {
  /** GPU UUIDs (the records' keys), in fleet order. */
  keys: string[];
  values: ArrayBuffer;
  /** Where each value ends in `values`. */
  ends: Uint32Array;
}

/** Reads the GPUs [from, to) of `fleet` at `timeMs` and encodes the samples with `codec`. */
export function encodeTick(fleet: SimulatedFleet, codec: TopicCodec<'samples'>, timeMs: number, from: number, to: number): EncodedTick {
  const samples = fleet.sample(timeMs, from, to);
  const encoded = samples.map((sample) => codec.encode(sample));
  const ends = new Uint32Array(encoded.length);
  let total = 0;
  for (let i = 0; i < encoded.length; i++) ends[i] = total += (encoded[i] as Buffer).length;
  // Its own ArrayBuffer, never a slice of Node's shared buffer pool: it is transferred whole.
  const values = new Uint8Array(total);
  let at = 0;
  for (const value of encoded) {
    values.set(value, at);
    at += value.length;
  }
  return { keys: samples.map((sample) => sample.gpu_uuid), values: values.buffer, ends };
}

/** The tick's records, their values views into its buffer. */
export function tickMessages(tick: EncodedTick): Array<{ key: string; value: Buffer }> {
  return tick.keys.map((key, i) => {
    const start = i === 0 ? 0 : (tick.ends[i - 1] as number);
    return { key, value: Buffer.from(tick.values, start, (tick.ends[i] as number) - start) };
  });
}
