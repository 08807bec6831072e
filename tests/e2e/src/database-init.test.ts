import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { databaseOptions, withClient, type DatabaseSettings } from '@gpumon/runtime/database';
import { startCli } from './cli-process.js';
import { privatePostgres, type PrivateService } from './private-stack.js';

/**
 * infra/postgres/roles.sql, the one file the native stack runs on start and infra/compose.yaml
 * mounts into the timescaledb image's docker-entrypoint-initdb.d: on a private native cluster,
 * with the roles it makes dropped first (as on a new Docker volume), it makes the logins the
 * sink and analysts use, and after `gpumon migrate` they can do their jobs.
 */
const ROLES_SQL = readFileSync(new URL('../../../infra/postgres/roles.sql', import.meta.url), 'utf8');
const ROLES = ['gpu_sink', 'gpu_reader', 'gpu_writer', 'gpu_analyst'];
const HEALTH_ROW = `(now(), 'GPU-init', 'h', 100, 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', 'PASS', '[]')`;

let postgres: (PrivateService & { url: string }) | undefined;
let owner: DatabaseSettings;
const as = (user: string, password: string): DatabaseSettings => {
  const url = new URL(owner.databaseUrl);
  url.username = user;
  url.password = password;
  return { ...owner, databaseUrl: url.toString() };
};

beforeAll(async () => {
  postgres = await privatePostgres();
  await postgres.up();
  owner = loadConfig(databaseOptions, { databaseUrl: postgres.url });
  await withClient(owner, async (c) => {
    // The stack's start already ran the file (that is the native path); undo it to start from nothing.
    for (const role of ROLES) await c.query(`DROP ROLE IF EXISTS ${role}`);
    expect((await c.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [ROLES])).rows).toEqual([]);
    // Twice: it must be safe to run again (the native stack runs it on every start).
    await c.query(ROLES_SQL);
    await c.query(ROLES_SQL);
  });
  const migrate = startCli(['migrate'], { DATABASE_URL: postgres.url });
  expect(await migrate.exited, migrate.output()).toBe(0);
}, 180_000);

afterAll(async () => {
  await postgres?.remove();
});

describe('infra/postgres/roles.sql', () => {
  it('makes the two group roles and the two logins, members of one group each, with no other power', async () => {
    const roles = await withClient(owner, (c) => c.query(
      `SELECT r.rolname::text, r.rolcanlogin, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolinherit,
              coalesce((SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '{}'::text[]) AS member_of
         FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname`, [ROLES]));
    const plain = { rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolinherit: true };
    expect(roles.rows).toEqual([
      { rolname: 'gpu_analyst', rolcanlogin: false, ...plain, member_of: [] },
      { rolname: 'gpu_reader', rolcanlogin: true, ...plain, member_of: ['gpu_analyst'] },
      { rolname: 'gpu_sink', rolcanlogin: true, ...plain, member_of: ['gpu_writer'] },
      { rolname: 'gpu_writer', rolcanlogin: false, ...plain, member_of: [] },
    ]);
  });

  it('lets gpu_sink log in with its password and write what the sink writes, but not delete it', async () => {
    await withClient(as('gpu_sink', 'gpu_sink'), async (c) => {
      expect((await c.query(`INSERT INTO gpu_health VALUES ${HEALTH_ROW}`)).rowCount).toBe(1);
      await expect(c.query('DELETE FROM gpu_health')).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('lets gpu_reader log in with its password and read, never write', async () => {
    await withClient(as('gpu_reader', 'gpu_reader'), async (c) => {
      expect((await c.query(`SELECT count(*)::int AS n FROM gpu_health WHERE gpu_uuid = 'GPU-init'`)).rows).toEqual([{ n: 1 }]);
      await expect(c.query(`INSERT INTO gpu_health VALUES ${HEALTH_ROW}`)).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('refuses a wrong password', async () => {
    await expect(withClient(as('gpu_sink', 'wrong'), (c) => c.query('SELECT 1'))).rejects.toMatchObject({ code: '28P01' });
  });
});
