import type { Column } from './tables.js';

/** COPY text format: tab-separated, \N for null, backslash escapes for the characters that would break a line. */
function escape(text: string): string {
  return text.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function field(value: unknown, column: Column): string {
  if (value === null || value === undefined) return '\\N';
  switch (column.kind) {
    case 'timestamp':
      return new Date(value as number).toISOString();
    case 'json':
      return escape(JSON.stringify(value, (_, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)));
    default:
      return typeof value === 'string' ? escape(value) : String(value);
  }
}

/** One record as one line of COPY text for `columns`. */
export function copyLine(record: Record<string, unknown>, columns: readonly Column[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as Column;
    line += (i === 0 ? '' : '\t') + field(record[column.name], column);
  }
  return `${line}\n`;
}
