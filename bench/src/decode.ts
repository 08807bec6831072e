import { readdirSync, readFileSync } from 'node:fs';
import { TopicCodec } from '@gpumon/runtime/avro-codec';
import type { SchemaRegistryClient } from '@gpumon/runtime/registry';
import type { GpuSample } from '@gpumon/schemas/types.generated';
import { SimulatedFleet } from '@gpumon/simulator/fleet';
import avro from 'avsc';
import { schemaText } from '@gpumon/schemas/avro';
import { compileCodec } from '@gpumon/runtime/avro-compiled';
import { frameCheck } from '@gpumon/runtime/avro-frame-check';
import { cpuMicrosPerRun, table } from './measure.js';

const EXPECTED = new URL('../../producers/nvidia-smi/testdata/expected/', import.meta.url);

/**
 * What bounded decoding costs: CPU µs per sample of avsc's decode alone (as before the frame
 * check), of the decoder compiled from the schema alone (what TopicCodec uses for this build's own
 * schema), of the check alone, and of TopicCodec.decode (check and compiled decoder, every record
 * of a pass kept until the pass ends), on the agent's captured samples, on simulated ones with
 * attribution from 32 GPUs and from a fleet of 10,000; then the refusal of a record whose trailing
 * array announces 2×10⁸ items (it ran every consumer out of memory before the check). No stack needed.
 */
export async function runDecodeBench(): Promise<Record<string, unknown>> {
  const type = avro.Type.forSchema(JSON.parse(schemaText('samples')) as avro.Schema);
  const check = frameCheck(type);
  const compiled = compileCodec(type);
  // The codec's own schema under an id of its own: no registry is asked.
  const codec = new TopicCodec(undefined as unknown as SchemaRegistryClient, 'samples');
  codec.assumeRegistered(1);
  const captured = readdirSync(EXPECTED).flatMap((file) => (JSON.parse(readFileSync(new URL(file, EXPECTED), 'utf8')) as { samples: GpuSample[] }).samples);
  const fleet = new SimulatedFleet({ seed: 1, hosts: 4, gpusPerHost: 8, hostPrefix: 'bench' });
  const simulated = Array.from({ length: 30 }, (_, k) => fleet.sample(Date.now() - 3_600_000 + k * 10_000)).flat();
  // A fleet with more strings of its own (about five a GPU) than a compiled reader's string cache holds (8,192).
  const large = new SimulatedFleet({ seed: 1, hosts: 1250, gpusPerHost: 8, hostPrefix: 'bench-fleet' });
  const fleetSamples = Array.from({ length: 3 }, (_, k) => large.sample(Date.now() - 3_600_000 + k * 10_000)).flat();
  const figures: Record<string, unknown> = {};
  const rows: Array<Record<string, string | number>> = [];
  for (const [name, samples] of [['captured', captured], ['simulated', simulated], ['fleet', fleetSamples]] as const) {
    const frames = samples.map((s) => codec.encode(s));
    const bodies = frames.map((f) => f.subarray(5));
    const perRecord = (work: (i: number) => void): number =>
      cpuMicrosPerRun(() => { for (let i = 0; i < bodies.length; i++) work(i); }).micros / bodies.length;
    const avscOnly = perRecord((i) => type.fromBuffer(bodies[i]!));
    const compiledOnly = perRecord((i) => compiled.decode(bodies[i]!));
    const checkOnly = perRecord((i) => check(bodies[i]!));
    // A pass's records are kept until it ends, as a consumer keeps a batch's: the heap they hold is part of the cost.
    let pending: unknown[] = [];
    const decode = cpuMicrosPerRun(() => {
      pending = [];
      for (let i = 0; i < frames.length; i++) pending.push(codec.decode(frames[i]!));
    }).micros / frames.length;
    await Promise.all(pending);
    const bytes = Math.round(bodies.reduce((sum, b) => sum + b.length, 0) / bodies.length);
    rows.push({ samples: name, records: bodies.length, 'bytes/record': bytes, 'avsc µs': avscOnly.toFixed(2), 'compiled µs': compiledOnly.toFixed(2), 'check µs': checkOnly.toFixed(2), 'decode µs': decode.toFixed(2), 'check share': `${((100 * checkOnly) / avscOnly).toFixed(1)} %` });
    figures[`${name}_avsc_us`] = avscOnly;
    figures[`${name}_compiled_us`] = compiledOnly;
    figures[`${name}_check_us`] = checkOnly;
    figures[`${name}_decode_us`] = decode;
  }
  table(rows);
  const whole = codec.encode({ ...captured[0]!, attribution_problems: [] });
  // zigzag(2×10⁸) as a varint, where the empty array's 0 was.
  const crafted = Buffer.concat([whole.subarray(0, whole.length - 1), Buffer.from([0x80, 0x88, 0xde, 0xbe, 0x01])]);
  const heapBefore = process.memoryUsage().heapUsed;
  const reason = await codec.decode(crafted).then(() => 'decoded', (error: Error) => error.message);
  const heapGrowthKb = (process.memoryUsage().heapUsed - heapBefore) / 1024;
  const refusal = cpuMicrosPerRun(() => void codec.decode(crafted).catch(() => undefined), 500);
  console.log(`the ${crafted.length}-byte record announcing 2×10⁸ items: refused in ${refusal.micros.toFixed(1)} µs CPU, the heap ${heapGrowthKb.toFixed(0)} KiB larger after one refusal ("${reason}")`);
  return { ...figures, crafted_refusal_us: refusal.micros, crafted_heap_growth_kib: heapGrowthKb };
}
