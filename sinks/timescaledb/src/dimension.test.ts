import { describe, expect, it } from 'vitest';
import { sameAttributes } from './dimension.js';

describe('sameAttributes', () => {
  it('compares each left field of one object with its right field of the other, a missing value as null', () => {
    const same = sameAttributes([['user', 'job_user'], ['kind', 'kind']]);
    expect(same({ user: 'ana', kind: 'pod' }, { job_user: 'ana', kind: 'pod' })).toBe(true);
    expect(same({ kind: 'pod' }, { job_user: null, kind: 'pod' })).toBe(true);
    expect(same({ user: 'ana', kind: 'pod' }, { job_user: 'bob', kind: 'pod' })).toBe(false);
    expect(same({ user: 'ana', kind: 'job' }, { job_user: 'ana', kind: 'pod' })).toBe(false);
    expect(same({ user: 0, kind: 'pod' }, { job_user: null, kind: 'pod' })).toBe(false);
  });

  it('takes any field name as a name, quotes and code included', () => {
    const odd = `a"]) || true || (b["`;
    const same = sameAttributes([[odd, odd]]);
    expect(same({ [odd]: 1 }, { [odd]: 2 })).toBe(false);
    expect(same({ [odd]: 1 }, { [odd]: 1 })).toBe(true);
  });

  it('holds any two objects alike when there is no field to compare', () => {
    expect(sameAttributes([])({ a: 1 }, { a: 2 })).toBe(true);
  });
});
