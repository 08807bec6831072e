import { describe, expect, it } from 'vitest';
import { tableOf } from './tables.js';

describe('tables', () => {
  it('maps each Avro field to a column of the same name and kind', () => {
    const samples = tableOf('samples');
    expect(samples.name).toBe('gpu_samples');
    expect(samples.columns.slice(0, 2)).toEqual([{ name: 'time', kind: 'timestamp' }, { name: 'gpu_uuid', kind: 'scalar' }]);
    expect(samples.columns.find((c) => c.name === 'xid_events')?.kind).toBe('json');
    expect(tableOf('health').columns.find((c) => c.name === 'reasons')?.kind).toBe('json');
  });
});
