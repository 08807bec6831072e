import { describe, expect, it } from 'vitest';
import { featureMismatch } from './manifest.js';

describe('feature list check', () => {
  const engine = ['a', 'b', 'c'];

  it('accepts the same names in the same order', () => {
    expect(featureMismatch(['a', 'b', 'c'], engine)).toBeNull();
  });

  it('names what is missing, what is unknown, or where the order differs', () => {
    expect(featureMismatch(['a', 'b'], engine)).toBe('missing from the model: c');
    expect(featureMismatch(['a', 'b', 'c', 'z'], engine)).toBe('unknown to the engine: z');
    expect(featureMismatch(['a', 'x'], engine)).toBe('missing from the model: b, c; unknown to the engine: x');
    expect(featureMismatch(['a', 'c', 'b'], engine)).toBe('order differs at input 1: the model has c, the engine b');
  });
});
