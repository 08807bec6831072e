import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startCli } from './cli-process.js';

const STACK = fileURLToPath(new URL('../../../infra/stack/stack.sh', import.meta.url));

async function failure(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const cli = startCli(args, env);
  const code = await cli.exited;
  return { code, output: cli.output().trim() };
}

describe('bad input at start', () => {
  it('an unreachable Kafka: one line naming the service and address, exit 1', async () => {
    const { code, output } = await failure(['process', 'score-health'], { KAFKA_BROKERS: 'localhost:1' });
    expect(code).toBe(1);
    expect(output).toMatch(/^gpumon process score-health: cannot reach Kafka at localhost:1: .*ECONNREFUSED.*$/);
  });

  it('an unreachable schema registry: one line naming it, exit 1', async () => {
    const { code, output } = await failure(['simulate'], { SCHEMA_REGISTRY_URL: 'http://localhost:1/apis/ccompat/v7' });
    expect(code).toBe(1);
    expect(output).toMatch(/^gpumon simulate: cannot reach the schema registry at http:\/\/localhost:1\/apis\/ccompat\/v7: .+$/);
  });

  it('an unreachable PostgreSQL: one line naming it, exit 1', async () => {
    const { code, output } = await failure(['sink'], { DATABASE_URL: 'postgres://gpumon:gpumon@localhost:1/gpumon' });
    expect(code).toBe(1);
    expect(output).toMatch(/^gpumon sink: cannot reach PostgreSQL at localhost:1\/gpumon: .*ECONNREFUSED.*$/);
  });

  it('bad settings: every one named with an example, exit 2', async () => {
    const { code, output } = await failure(['simulate', '--hosts', '0', '--clock', 'sundial'], {});
    expect(code).toBe(2);
    expect(output).toContain('GPUMON_SIM_HOSTS (--hosts): must be at least 1; got "0", e.g. 100');
    expect(output).toContain('GPUMON_SIM_CLOCK (--clock): must be one of wall, simulated; got "sundial", e.g. simulated');
  });

  it('stack up with its ports taken (here by the running stack) names each port and service and starts nothing', () => {
    const home = mkdtempSync(`${tmpdir()}/gpumon-stack-`);
    try {
      const result = spawnSync('bash', [STACK, 'up'], { env: { ...process.env, GPUMON_HOME: home }, encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('port 5432 (wanted by postgres) is already in use');
      expect(result.stderr).toContain('port 9092 (wanted by kafka) is already in use');
      expect(result.stderr).toContain('port 8081 (wanted by registry) is already in use');
      expect(existsSync(`${home}/run`) ? readdirSync(`${home}/run`) : []).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
