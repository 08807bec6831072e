import type { Column } from './tables.js';

const SPECIAL = /[\\\t\n\r]/;

/** COPY text format: tab-separated, \N for null, backslash escapes for the characters that would break a line. */
function escape(text: string): string {
  if (!SPECIAL.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function field(value: unknown, column: Column): string {
  if (value === null || value === undefined) return '\\N';
  switch (column.kind) {
    case 'timestamp':
      return new Date(value as number).toISOString();
    case 'json':
      // No replacer: no sink stream has bytes inside a record, and a replacer costs V8 its fast serializer.
      return escape(JSON.stringify(value));
    default:
      return typeof value === 'string' ? escape(value) : String(value);
  }
}

/**
 * One record as one line of COPY text for `columns`. Built with join, not `+=`: concatenation makes
 * a rope of one node per field, which holds several times the text's size until it is flattened.
 */
export function copyLine(record: Record<string, unknown>, columns: readonly Column[]): string {
  const fields = new Array<string>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as Column;
    fields[i] = field(record[column.name], column);
  }
  return `${fields.join('\t')}\n`;
}

/** Records as the body of one COPY … FROM STDIN. */
export function copyText(records: ReadonlyArray<Record<string, unknown>>, columns: readonly Column[]): string {
  return records.map((record) => copyLine(record, columns)).join('');
}
