import { readFileSync } from 'node:fs';
import pg from 'pg';
import { parse, type ConfigOf } from './config.js';
import { GpumonError, errorMessage } from './errors.js';

export const databaseOptions = {
  databaseUrl: {
    env: 'DATABASE_URL', flag: 'database-url', default: 'postgres://gpumon:gpumon@localhost:5432/gpumon',
    example: 'postgres://gpumon:secret@db.internal:5432/gpumon', secret: true,
    description: 'PostgreSQL (TimescaleDB) connection URL.', schema: parse.url(['postgres', 'postgresql']),
  },
  databaseSsl: {
    env: 'DATABASE_SSL', flag: 'database-ssl', default: 'disable', example: 'verify-full',
    description: 'TLS to PostgreSQL: disable, require (encrypt, trust any certificate) or verify-full (check the certificate and host name).',
    schema: parse.oneOf(['disable', 'require', 'verify-full']),
  },
  databaseSslCaFile: {
    env: 'DATABASE_SSL_CA_FILE', flag: 'database-ssl-ca-file', example: '/etc/ssl/pg-ca.pem',
    description: 'PEM file of the CA that signed the server certificate, for verify-full (default: the system CAs).',
    schema: parse.optionalString(),
  },
} as const;

/** The connection of a component that writes: a login in gpu_writer (migration 0010), which can insert and nothing more. */
export const writerDatabaseUrl = {
  ...databaseOptions.databaseUrl,
  default: 'postgres://gpu_sink:gpu_sink@localhost:5432/gpumon',
  description: 'PostgreSQL (TimescaleDB) connection URL of a role in gpu_writer (docs/roles.md); the local stack creates gpu_sink.',
} as const;

export type DatabaseSettings = ConfigOf<typeof databaseOptions>;

/** What a read needs of a connection: a client, a pool's client or the pool itself. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** host:port/database of the URL, never its password, for messages. */
export function databaseAddress(settings: DatabaseSettings): string {
  const url = new URL(settings.databaseUrl);
  return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

export function clientConfig(settings: DatabaseSettings): pg.ClientConfig {
  const ssl =
    settings.databaseSsl === 'disable'
      ? false
      : settings.databaseSsl === 'require'
        ? { rejectUnauthorized: false }
        : { rejectUnauthorized: true, ...(settings.databaseSslCaFile ? { ca: readFileSync(settings.databaseSslCaFile, 'utf8') } : {}) };
  return { connectionString: settings.databaseUrl, ssl, connectionTimeoutMillis: 5000, application_name: 'gpumon' };
}

/** One connection for `work`, always closed after it. */
export async function withClient<T>(settings: DatabaseSettings, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(clientConfig(settings));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A pool of `max` connections; given `statementTimeoutMs`, the server cancels (57014) a statement that runs longer, one blocked on a lock included. */
export function createPool(settings: DatabaseSettings, max = 4, statementTimeoutMs?: number): pg.Pool {
  return new pg.Pool({ ...clientConfig(settings), max, ...(statementTimeoutMs === undefined ? {} : { statement_timeout: statementTimeoutMs }) });
}

/** A real query, so a wrong address, password or database fails at start with one clear line. */
export async function checkDatabase(pool: pg.Pool, settings: DatabaseSettings): Promise<void> {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw new GpumonError(
      'service_unreachable',
      `cannot reach PostgreSQL at ${databaseAddress(settings)}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
}
