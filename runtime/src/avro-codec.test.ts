import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SAMPLE_BOUNDS } from '@gpumon/schemas/sample-bounds';
import type { GpuFeatures, GpuSample, Workload } from '@gpumon/schemas/types.generated';
import { TopicCodec, type Decode } from './avro-codec.js';
import type { ConsumedMessage } from './consumer.js';
import { Counters } from './counters.js';
import { DeadLetters, decodeMessages, isRetriable } from './dead-letter.js';
import { GpumonError } from './errors.js';
import { createLogger } from './log.js';
import { createRegistryClient, type SchemaRegistryClient } from './registry.js';
import { retryWhileRetriable } from './retry.js';
import { validateRecord } from './sample-validation.js';

/** A real agent sample (15 processes), given a MIG slice, an Xid event, a workload and an attribution problem. */
const captured = JSON.parse(readFileSync(new URL('../../producers/nvidia-smi/testdata/expected/tesla_t4.json', import.meta.url), 'utf8')) as { samples: GpuSample[] };
const workload: Workload = {
  workload_id: 'slurm:4242', kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: null, gpu_instance_id: null, cluster: null, namespace: null,
  pod: null, pod_uid: null, container: null, job_id: '4242', user: 'alice', account: 'ml', partition: 'MARK-partition', pids: [17, 18], used_memory_mib: 512,
};
const sample: GpuSample = {
  ...captured.samples[0]!,
  mig_instances: [{ gpu_instance_id: 1, compute_instance_id: 0, mig_uuid: 'MARK-mig', profile: '1g.10gb', memory_total_mib: 9856, memory_used_mib: 12 }],
  xid_events: [{ time: 1_767_225_600_000, code: 79, pci_id: '0000:3b:00', message: 'MARK-xid' }],
  workloads: [workload],
  attribution_problems: ['MARK-problem'],
};

// The codec's own schema under an id of its own: no registry is asked.
const codec = new TopicCodec(undefined as unknown as SchemaRegistryClient, 'samples');
codec.assumeRegistered(7);
const frame = codec.encode(sample);

const zigzag = (n: number): Buffer => {
  const bytes: number[] = [];
  let z = n * 2;
  while (z >= 0x80) {
    bytes.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  bytes.push(z);
  return Buffer.from(bytes);
};

/** Where a count or length sits in the frame: just before (or after) a marker string, at several depths. */
const HOSTILE = {
  hostname: frame.indexOf(sample.hostname) - 1,
  'mig_instances (array of records)': frame.indexOf('MARK-mig') - 6,
  'xid_events[].message (string in an array of records)': frame.indexOf('MARK-xid') - 1,
  'workloads[].pids (array in a record in a nullable array)': frame.indexOf('MARK-partition') + 'MARK-partition'.length,
  'attribution_problems (the trailing array)': frame.indexOf('MARK-problem') - 2,
};

async function refusal(value: Buffer, decode: Decode<unknown> = (v) => codec.decode(v)): Promise<GpumonError> {
  try {
    await decode(value);
  } catch (error) {
    expect(error).toBeInstanceOf(GpumonError);
    expect((error as GpumonError).code).toBe('decode_failed');
    return error as GpumonError;
  }
  throw new Error('decoded');
}

describe('TopicCodec.decode of hostile frames', () => {
  it('round-trips the sample', async () => {
    expect(await codec.decode(frame)).toEqual(sample);
  });

  it('refuses the 2×10⁸-item trailing array as decode_failed without allocating for the items', async () => {
    const crafted = Buffer.concat([frame.subarray(0, HOSTILE['attribution_problems (the trailing array)']), zigzag(200_000_000), Buffer.from('tail')]);
    const heapBefore = process.memoryUsage().heapUsed;
    const error = await refusal(crafted);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(16 * 1024 * 1024);
    expect(error.message).toMatch(/^cannot decode with writer schema 7: attribution_problems: 200000000 items announced, 4 bytes left/);
  });

  it('a huge count or length at any depth is refused by the bounds check, never by running out of memory', async () => {
    for (const at of Object.values(HOSTILE)) expect(at).toBeGreaterThan(0);
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...Object.entries(HOSTILE)),
      fc.oneof(fc.integer({ min: 1 << 16, max: 2 ** 31 }), fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER })),
      fc.uint8Array({ maxLength: 64 }),
      async ([name, at], count, tail) => {
        const error = await refusal(Buffer.concat([frame.subarray(0, at), zigzag(count), tail]));
        expect(error.message, name).toMatch(new RegExp(`: ${name.split(' ')[0]!.replace(/[[\].]/g, '\\$&')}: ${count} (items|bytes) announced`));
      },
    ), { numRuns: 300 });
  });

  it('a truncated frame is decode_failed', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: frame.length - 1 }), async (cut) => {
      await refusal(frame.subarray(0, cut));
    }), { numRuns: 300 });
  });

  it('random bytes behind the header, or bytes of the frame overwritten: a record or decode_failed, nothing else', async () => {
    const decodedOrRefused = async (value: Buffer): Promise<void> => {
      await codec.decode(value).catch((error: unknown) => {
        expect(error).toBeInstanceOf(GpumonError);
        expect((error as GpumonError).code).toBe('decode_failed');
      });
    };
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
      await decodedOrRefused(Buffer.concat([frame.subarray(0, 5), bytes]));
    }), { numRuns: 500 });
    await fc.assert(fc.asyncProperty(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 12 }), async (at, bytes) => {
      const changed = Buffer.from(frame);
      changed.set(bytes.subarray(0, frame.length - 5 - (at % (frame.length - 5))), 5 + (at % (frame.length - 5)));
      await decodedOrRefused(changed);
    }), { numRuns: 1000 });
  });
});

describe('TopicCodec.decoderLeavingOut', () => {
  const withoutFeatures = codec.decoderLeavingOut(['features']);
  const featureBounds = Object.entries(SAMPLE_BOUNDS).filter(([path]) => path.startsWith('features.')).map(([path, b]) => [path.slice('features.'.length), b] as const);
  /** Features of every kind a producer writes: each missing, or any number within its bounds. */
  const features = fc.record(Object.fromEntries(featureBounds.map(([name, b]) => [name, fc.option(fc.double({ min: b.min, max: b.max, noNaN: true }))])));
  const messageTime = sample.time + 1000;

  it('decodes what the whole decode does, less the fields left out', async () => {
    await fc.assert(fc.asyncProperty(fc.option(features), async (drawn) => {
      const value = codec.encode({ ...sample, features: drawn as GpuFeatures | null });
      const projected = await withoutFeatures(value);
      // toEqual takes a property that is undefined for one that is missing; hasOwn tells them apart.
      expect(projected).toEqual({ ...await codec.decode(value), features: undefined });
      expect(Object.hasOwn(projected, 'features')).toBe(false);
      validateRecord('samples', projected, messageTime);
    }), { numRuns: 200 });
  });

  it('decodes whole a record with a left-out number outside its bounds, so validation refuses it with the reason every consumer gives', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...featureBounds),
      fc.oneof(fc.constantFrom(Number.NaN, Infinity, -Infinity), fc.double({ min: -1e300, max: 1e300, noNaN: true })),
      async ([name, b], bad) => {
        fc.pre(!(bad >= b.min && bad <= b.max));
        const value = codec.encode({ ...sample, features: { ...Object.fromEntries(featureBounds.map(([n]) => [n, null])), [name]: bad } as unknown as GpuFeatures });
        const projected = await withoutFeatures(value);
        expect(projected).toEqual(await codec.decode(value));
        const reason = (record: GpuSample): unknown => {
          try {
            validateRecord('samples', record, messageTime);
          } catch (error) {
            return (error as Error).message;
          }
          return undefined;
        };
        expect(reason(projected)).toMatch(`features.${name}=${String(bad)} outside`);
      },
    ), { numRuns: 200 });
  });

  it('refuses a malformed frame as the whole decode does, with the same reason', async () => {
    const withSomeFeatures = codec.encode({ ...sample, features: { ...Object.fromEntries(featureBounds.map(([n]) => [n, 1])) } as unknown as GpuFeatures });
    const crafted = Buffer.concat([frame.subarray(0, HOSTILE['attribution_problems (the trailing array)']), zigzag(200_000_000), Buffer.from('tail')]);
    expect((await refusal(crafted, withoutFeatures)).message).toBe((await refusal(crafted)).message);
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: withSomeFeatures.length - 1 }), async (cut) => {
      const truncated = withSomeFeatures.subarray(0, cut);
      expect((await refusal(truncated, withoutFeatures)).message).toBe((await refusal(truncated)).message);
    }), { numRuns: 300 });
  });

  it('refuses to leave out a field the schema lacks', () => {
    expect(() => codec.decoderLeavingOut(['feature'])).toThrow(/no field feature to leave out/);
  });
});

describe('TopicCodec.register against a registry that is slow to start or refuses', () => {
  /** A registry on a local port: each request is dropped without an answer while `drop` says so, else answered by `answer`. */
  async function registryServing(drop: () => boolean, answer: (method: string, url: string) => [number, unknown]): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      request.resume();
      if (drop()) {
        request.socket.destroy();
        return;
      }
      const [status, body] = answer(request.method ?? '', request.url ?? '');
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const registryCodec = (url: string): TopicCodec<'samples'> => new TopicCodec(createRegistryClient({ schemaRegistryUrl: url, schemaRegistryUsername: undefined, schemaRegistryPassword: undefined }), 'samples');
  const ccompat = (method: string): [number, unknown] => (method === 'PUT' ? [200, { compatibility: 'BACKWARD' }] : [200, { id: 31 }]);

  it('no answer is service_unreachable (retriable), and registering again once it answers gets the id', async () => {
    let dropped = 0;
    const registry = await registryServing(() => dropped++ < 4, ccompat);
    try {
      const failure = await registryCodec(registry.url).register().then(() => undefined, (error: unknown) => error);
      expect(failure).toBeInstanceOf(GpumonError);
      expect([(failure as GpumonError).code, (failure as GpumonError).retriable]).toEqual(['service_unreachable', true]);
      expect((failure as GpumonError).message).toMatch(/schema registry did not answer registering the samples schema under subject gpu\.samples\.v1-value/);
      const codec = registryCodec(registry.url);
      expect(await retryWhileRetriable('registering', () => codec.register(), isRetriable, createLogger('test'), undefined, { initialMs: 1, maxMs: 5 })).toBe(31);
      expect(registry.requests.at(-1)).toMatch(/^POST \/subjects\/gpu\.samples\.v1-value\/versions/);
    } finally {
      await registry.close();
    }
  });

  it('an incompatible schema (409) is schema_rejected at once, without a second request', async () => {
    const registry = await registryServing(() => false, (method) => (method === 'PUT' ? [200, { compatibility: 'BACKWARD' }] : [409, { error_code: 409, message: 'Schema being registered is incompatible' }]));
    try {
      const failure = await registryCodec(registry.url).register().then(() => undefined, (error: unknown) => error);
      expect([(failure as GpumonError).code, (failure as GpumonError).retriable]).toEqual(['schema_rejected', false]);
      expect((failure as GpumonError).message).toMatch(/schema registry refused registering the samples schema .*incompatible/);
      expect(registry.requests.filter((r) => r.startsWith('POST'))).toHaveLength(1);
    } finally {
      await registry.close();
    }
  });

  it('a record whose writer schema the registry does not give yet waits for it, then it and the records after it decode at once', async () => {
    let dropped = 0;
    const registry = await registryServing(() => dropped++ < 3, () => [200, { schema: codec.schema }]);
    try {
      const consumer = registryCodec(registry.url);
      const decode = consumer.decoderLeavingOut([]);
      const letters = new TopicCodec(undefined as unknown as SchemaRegistryClient, 'dlq');
      letters.assumeRegistered(8);
      const log = createLogger('test');
      const underId44 = Buffer.from(frame);
      underId44.writeUInt32BE(44, 1);
      const message = (offset: number, value: Buffer): ConsumedMessage => ({ topic: 'gpu.samples.v1', partition: 0, offset: String(offset), key: null, value, timestamp: String(sample.time), headers: {} });
      const counters = new Counters(new Registry(), 'test');
      const { decoded, letters: dead } = await decodeMessages(
        [message(1, underId44), message(2, underId44), message(3, underId44.subarray(0, 40))], decode,
        new DeadLetters('test', letters, counters, log), counters, log, AbortSignal.timeout(30_000), () => undefined,
      );
      expect(decoded.map((d) => [d.message.offset, d.record])).toEqual([['1', sample], ['2', sample]]);
      expect(dead).toHaveLength(1);
      expect(registry.requests.filter((r) => r.startsWith('GET /schemas/ids/44'))).toHaveLength(4);
      // Known now: the next record is decoded without waiting on anything.
      expect(decode(underId44)).toEqual(sample);
    } finally {
      await registry.close();
    }
  });
});
