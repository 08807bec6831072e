import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort, freePortRange } from './cleanup.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The shared stack's downloads and builds: a private instance reuses them rather than fetching again. */
const CACHE = process.env.GPUMON_CACHE_DIR ?? `${process.env.GPUMON_HOME ?? `${REPO}.gpumon`}/cache`;
const run = promisify(execFile);

/**
 * A runner of one infra/stack script on a GPUMON_HOME of its own, with `ports`; it resolves with
 * what the script printed. Asynchronous, so the test's event loop keeps draining its processes'
 * output meanwhile.
 */
function privateScript(script: 'stack.sh' | 'kafka-cluster.sh', what: string, ports: Record<string, number>, env: Record<string, string> = {}): { home: string; script: (...args: string[]) => Promise<string> } {
  const home = mkdtempSync(`${tmpdir()}/gpumon-${what}-`);
  const scriptEnv = { ...process.env, ...env, GPUMON_HOME: home, GPUMON_CACHE_DIR: CACHE, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  return {
    home,
    script: async (...args) => {
      const { stdout } = await run('bash', [`${REPO}infra/stack/${script}`, ...args], { env: scriptEnv }).catch((error: { stderr?: string }) => {
        throw new Error(`${script} ${args.join(' ')} of the private ${what} failed:\n${error.stderr ?? String(error)}`);
      });
      return stdout;
    },
  };
}

/**
 * A private instance of one stack service, for a test that stops and starts it: its own
 * GPUMON_HOME and free ports, so the shared stack others are using is never touched.
 */
export interface PrivateService {
  up(): Promise<void>;
  down(): Promise<void>;
  /** Stops it if it runs and deletes its files. */
  remove(): Promise<void>;
}

/** up, down and remove of a private service or cluster, by its script. */
function lifecycle(home: string, script: (action: string) => Promise<string>): PrivateService {
  return {
    up: async () => void (await script('up')),
    down: async () => void (await script('down')),
    remove: async () => {
      await script('down');
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function privateService(service: 'postgres' | 'kafka', ports: Record<string, number>, env: Record<string, string> = {}): PrivateService {
  const { home, script } = privateScript('stack.sh', service, ports, { ...env, GPUMON_STACK_SERVICES: service });
  // PostgreSQL runs as its own user, which must reach the data directory.
  chmodSync(home, 0o755);
  return lifecycle(home, script);
}

/** A private PostgreSQL + TimescaleDB (not started yet) and the URL of its gpumon login. */
export async function privatePostgres(): Promise<PrivateService & { url: string }> {
  const port = await freePort();
  return { ...privateService('postgres', { PGPORT: port }), url: `postgres://gpumon:gpumon@localhost:${port}/gpumon` };
}

/** A private single-node Kafka (not started yet) and its bootstrap address. */
export async function privateKafka(): Promise<PrivateService & { brokers: string }> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  return { ...privateService('kafka', { KAFKA_PORT: port, KAFKA_CONTROLLER_PORT: controllerPort }), brokers: `localhost:${port}` };
}

/** A private Kafka that lets in only its users (SASL/PLAIN) and grants each only what ACLs say. */
export interface PrivateSecuredKafka extends PrivateService {
  brokers: string;
  /** The environment of a gpumon command (KAFKA_BROKERS, KAFKA_SASL_*) logged in as `user`. */
  login(user: string): Record<string, string>;
}

/**
 * A private single-node Kafka with SASL/PLAIN and the StandardAuthorizer (not started yet): each
 * of `users` gets a random password; the first is the super user, the others hold no ACL yet.
 */
export async function privateSecuredKafka(users: readonly [string, ...string[]]): Promise<PrivateSecuredKafka> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const passwords = new Map(users.map((user) => [user, randomBytes(12).toString('hex')]));
  const brokers = `localhost:${port}`;
  const service = privateService('kafka', { KAFKA_PORT: port, KAFKA_CONTROLLER_PORT: controllerPort }, {
    KAFKA_SASL_USERS: [...passwords].map(([user, password]) => `${user}:${password}`).join(' '),
  });
  return {
    ...service,
    brokers,
    login: (user) => {
      const password = passwords.get(user);
      if (password === undefined) throw new Error(`the private Kafka has no user ${user} (it has ${users.join(', ')})`);
      return { KAFKA_BROKERS: brokers, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: user, KAFKA_SASL_PASSWORD: password };
    },
  };
}

/** A private Kafka cluster (infra/stack/kafka-cluster.sh): three KRaft nodes, replication factor 3, min.insync.replicas=2. */
export interface PrivateKafkaCluster extends PrivateService {
  /** The bootstrap list of all three nodes. */
  brokers: string;
  /** Node id (1..3) of the active controller, as the quorum reports it. */
  controller(): Promise<number>;
  /** A crash of node `node`: SIGKILL, no controlled shutdown. */
  kill(node: number): Promise<void>;
  /** Starts node `node` again; resolves once it answers. */
  start(node: number): Promise<void>;
}

/** A private three-node Kafka cluster, not started yet. */
export async function privateKafkaCluster(): Promise<PrivateKafkaCluster> {
  // Each node takes two ports in a row from the first: its client listener, then its controller's.
  const first = await freePortRange(6);
  const { home, script } = privateScript('kafka-cluster.sh', 'kafka-cluster', { KAFKA_PORT: first, KAFKA_CONTROLLER_PORT: first + 1 });
  return {
    ...lifecycle(home, script),
    brokers: (await script('brokers')).trim(),
    controller: async () => Number((await script('controller')).trim()),
    kill: async (node) => void (await script('kill', String(node))),
    start: async (node) => void (await script('start', String(node))),
  };
}
