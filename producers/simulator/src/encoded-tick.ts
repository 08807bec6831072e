import type { RecordEncoder } from '@gpumon/runtime/avro-encoder';
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

/**
 * Reads the GPUs [from, to) of `fleet` at `timeMs` and encodes the samples with `encoder`, each as
 * soon as it is read: a part's readings held until all were read (2,000 of them, 4 MB) outlived
 * the young generation, and their promotion cost a full collection a tick.
 */
export function encodeTick(fleet: SimulatedFleet, encoder: RecordEncoder<'samples'>, timeMs: number, from: number, to: number): EncodedTick {
  const keys = new Array<string>(to - from);
  const encoded = new Array<Buffer>(to - from);
  const ends = new Uint32Array(to - from);
  let total = 0;
  for (let i = from; i < to; i++) {
    const sample = fleet.sampleOf(i, timeMs);
    const value = encoder.encode(sample);
    keys[i - from] = sample.gpu_uuid;
    encoded[i - from] = value;
    ends[i - from] = total += value.length;
  }
  // Its own ArrayBuffer, never a slice of Node's shared buffer pool: it is transferred whole.
  const values = new Uint8Array(total);
  let at = 0;
  for (const value of encoded) {
    values.set(value, at);
    at += value.length;
  }
  return { keys, values: values.buffer, ends };
}

/** The tick's records, their values views into its buffer. */
export function tickMessages(tick: EncodedTick): Array<{ key: string; value: Buffer }> {
  return tick.keys.map((key, i) => {
    const start = i === 0 ? 0 : (tick.ends[i - 1] as number);
    return { key, value: Buffer.from(tick.values, start, (tick.ends[i] as number) - start) };
  });
}
