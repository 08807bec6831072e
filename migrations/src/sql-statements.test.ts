import { describe, expect, it } from 'vitest';
import { splitStatements } from './sql-statements.js';

describe('splitStatements', () => {
  it('splits at top-level semicolons only', () => {
    const sql = [
      '-- Up Migration',
      "CREATE TABLE gpu_a (t text DEFAULT 'a;b');",
      '/* a ; comment */ CREATE FUNCTION gpu_f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      'SELECT "odd;name" FROM gpu_a; -- trailing ; comment',
      '',
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      "CREATE TABLE gpu_a (t text DEFAULT 'a;b');",
      '/* a ; comment */ CREATE FUNCTION gpu_f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;',
      'SELECT "odd;name" FROM gpu_a;',
    ]);
  });
});
