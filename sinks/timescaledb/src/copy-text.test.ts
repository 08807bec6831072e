import { describe, expect, it } from 'vitest';
import { copyLine } from './copy-text.js';
import { tableOf } from './tables.js';

describe('COPY text encoding', () => {
  it('escapes the characters that would break a row and writes null as \\N', () => {
    const columns = [
      { name: 'time', kind: 'timestamp' as const },
      { name: 'text', kind: 'scalar' as const },
      { name: 'missing', kind: 'scalar' as const },
      { name: 'list', kind: 'json' as const },
      { name: 'n', kind: 'scalar' as const },
    ];
    const line = copyLine({ time: 0, text: 'a\tb\nc\\d\re', missing: null, list: [{ message: 'x\ty' }], n: 0.1 }, columns);
    expect(line).toBe('1970-01-01T00:00:00.000Z\ta\\tb\\nc\\\\d\\re\t\\N\t[{"message":"x\\\\ty"}]\t0.1\n');
  });

  it('maps each Avro field to a column of the same name and kind', () => {
    const samples = tableOf('samples');
    expect(samples.name).toBe('gpu_samples');
    expect(samples.columns.slice(0, 2)).toEqual([{ name: 'time', kind: 'timestamp' }, { name: 'gpu_uuid', kind: 'scalar' }]);
    expect(samples.columns.find((c) => c.name === 'xid_events')?.kind).toBe('json');
    expect(tableOf('health').columns.find((c) => c.name === 'reasons')?.kind).toBe('json');
  });
});
