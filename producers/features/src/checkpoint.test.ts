import { describe, expect, it } from 'vitest';
import { FeatureEngine, type FeatureCheckpoint } from './engine.js';
import { random, randomSamples } from './samples.fixture.js';

function engineWith(seed: number, gpus: number, samples: number): FeatureEngine {
  const engine = new FeatureEngine();
  for (let g = 0; g < gpus; g++) for (const s of randomSamples(seed + g, samples, `GPU-${g}`)) engine.update(s);
  return engine;
}

describe('checkpoint and restore', () => {
  it('restores state that gives bit-identical features from then on (random sequences, random cut)', () => {
    for (let seed = 0; seed < 25; seed++) {
      const next = random(seed);
      const streams = [0, 1, 2].map((g) => randomSamples(seed * 10 + g, 300, `GPU-${g}`));
      const cut = Math.floor(next() * 300);
      const original = new FeatureEngine();
      for (let i = 0; i < cut; i++) for (const stream of streams) original.update(stream[i]!);
      const restored = FeatureEngine.restore(JSON.parse(JSON.stringify(original.checkpoint())) as FeatureCheckpoint);
      expect(restored.size).toBe(original.size);
      const rest = streams.flatMap((stream) => stream.slice(cut));
      expect(JSON.stringify(rest.map((s) => restored.update(s)))).toBe(JSON.stringify(rest.map((s) => original.update(s))));
    }
  });

  it('checkpoints an empty engine and a forgotten GPU as absent', () => {
    const engine = engineWith(1, 2, 50);
    engine.forget('GPU-0');
    const checkpoint = engine.checkpoint();
    expect(checkpoint.version).toBe(1);
    expect(checkpoint.gpus.map((gpu) => gpu.gpu_uuid)).toEqual(['GPU-1']);
    expect(FeatureEngine.restore(new FeatureEngine().checkpoint()).size).toBe(0);
  });

  it('rejects an unknown version or a malformed checkpoint with a message saying what is wrong', () => {
    const good = engineWith(2, 1, 20).checkpoint();
    const gpu = good.gpus[0]!;
    const cases: [unknown, RegExp][] = [
      [null, /not an object/],
      [{ ...good, version: 2 }, /version 2 is not supported/],
      [{ version: 1 }, /gpus is not an array/],
      [{ version: 1, gpus: [42] }, /gpus\[0\] is not an object/],
      [{ version: 1, gpus: [{ ...gpu, gpu_uuid: 7 }] }, /gpus\[0\].gpu_uuid is not a string/],
      [{ version: 1, gpus: [gpu, gpu] }, /appears twice/],
      [{ version: 1, gpus: [{ ...gpu, f64: gpu.f64.slice(1) }] }, /gpus\[0\].f64 .* must be an array of \d+ numbers/],
      [{ version: 1, gpus: [{ ...gpu, f32: [null, ...gpu.f32.slice(1)] }] }, /f32 .*\[0\] is not a finite number/],
      [{ version: 1, gpus: [{ ...gpu, u16: [70_000, ...gpu.u16.slice(1)] }] }, /u16 .*\[0\] = 70000 is out of range/],
      [{ version: 1, gpus: [{ ...gpu, u8: [0.5, ...gpu.u8.slice(1)] }] }, /u8 .*\[0\] = 0.5 is out of range/],
    ];
    for (const [input, message] of cases) {
      expect(() => FeatureEngine.restore(input as FeatureCheckpoint)).toThrow(message);
    }
  });
});

