import { describe, expect, it } from 'vitest';
import { occlusionRows, referenceRow, topContributions } from './contributions.js';

describe('occlusion contributions', () => {
  const reference = referenceRow([1, null, 3, 4]);

  it('makes one variant per feature that differs from its reference, missing counted as a value', () => {
    const row = Float32Array.from([1, 5, Number.NaN, 4]);
    const { features, variants } = occlusionRows(row, reference);
    expect(features).toEqual([1, 2]);
    expect([...variants.subarray(0, 4)]).toEqual([1, Number.NaN, Number.NaN, 4]);
    expect([...variants.subarray(4, 8)]).toEqual([1, 5, 3, 4]);
  });

  it('ranks the features by how far their reference lowers the probability, dropping those that raise it', () => {
    const row = Float32Array.from([9, 5, 7, 8]);
    const { features } = occlusionRows(row, reference);
    expect(features).toEqual([0, 1, 2, 3]);
    const top = topContributions(0.9, Float32Array.from([0.5, 0.95, 0.3, 0.5]), features, row, reference, ['a', 'b', 'c', 'd']);
    expect(top.map((t) => t.name)).toEqual(['c', 'a', 'd']);
    expect(top[0]).toEqual({ name: 'c', value: 7, reference: 3, contribution: expect.closeTo(0.6, 6) });
    expect(topContributions(0.9, Float32Array.from([0.95]), [1], row, reference, ['a', 'b', 'c', 'd'])).toEqual([]);
  });
});
