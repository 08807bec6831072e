import type pg from 'pg';

/**
 * Every relation (table, view, index, sequence…), function, procedure and type in the database
 * that is not gpu_-prefixed, leaving out what PostgreSQL, TimescaleDB's internal schemas and
 * extensions own. The project's rule: it creates nothing without the prefix.
 */
const AUDIT = `
WITH own_schemas AS (
  SELECT oid FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    AND nspname NOT LIKE 'pg_toast_temp_%'
    AND nspname NOT LIKE '\\_timescaledb%' AND nspname NOT LIKE 'timescaledb\\_%'
),
extension_members AS (
  SELECT classid, objid FROM pg_depend WHERE deptype = 'e'
)
SELECT 'relation ' || c.relkind::text AS kind, n.nspname || '.' || c.relname AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relnamespace IN (SELECT oid FROM own_schemas)
   AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
   AND c.relname NOT LIKE 'gpu\\_%'
UNION ALL
SELECT 'function', n.nspname || '.' || p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.pronamespace IN (SELECT oid FROM own_schemas)
   AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)
   AND p.proname NOT LIKE 'gpu\\_%'
UNION ALL
SELECT 'type', n.nspname || '.' || t.typname
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE t.typnamespace IN (SELECT oid FROM own_schemas)
   AND t.typrelid = 0 AND t.typcategory <> 'A'
   AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
   AND t.typname NOT LIKE 'gpu\\_%'
ORDER BY 1, 2`;

export async function listUnprefixedObjects(client: pg.Client | pg.Pool): Promise<Array<{ kind: string; name: string }>> {
  return (await client.query<{ kind: string; name: string }>(AUDIT)).rows;
}
