import { describe, expect, it } from 'vitest';
import { slowdownMargin } from './slowdown-margin.js';

describe('slowdownMargin', () => {
  it("takes the driver's margin where the sample carries one, T.Limit-only boards included", () => {
    expect(slowdownMargin({ temperature_slowdown_margin_c: 27, temperature_slowdown_c: null, temperature_gpu_c: 59 })).toBe(27);
    expect(slowdownMargin({ temperature_slowdown_margin_c: -1, temperature_slowdown_c: 90, temperature_gpu_c: 91 })).toBe(-1);
  });

  it('falls back to slowdown minus GPU temperature for records with absolute thresholds only', () => {
    expect(slowdownMargin({ temperature_slowdown_margin_c: null, temperature_slowdown_c: 89, temperature_gpu_c: 50 })).toBe(39);
    expect(slowdownMargin({ temperature_slowdown_margin_c: Number.NaN, temperature_slowdown_c: 89, temperature_gpu_c: 92 })).toBe(-3);
  });

  it('is null when neither form has a reading', () => {
    expect(slowdownMargin({ temperature_slowdown_margin_c: null, temperature_slowdown_c: null, temperature_gpu_c: 59 })).toBeNull();
    expect(slowdownMargin({ temperature_slowdown_margin_c: null, temperature_slowdown_c: 89, temperature_gpu_c: null })).toBeNull();
  });
});
