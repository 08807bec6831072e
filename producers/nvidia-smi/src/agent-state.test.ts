import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The built agent (`gpumon agent --output json`, no Kafka needed) started on a state directory a
 * power cut left broken: an empty known-gpus.json, a torn feature checkpoint, a torn spool segment.
 */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FAKE_NVIDIA_SMI = fileURLToPath(new URL('../testdata/bin/nvidia-smi', import.meta.url));
const XML = fileURLToPath(new URL('../testdata/captured/dual_2070-v13.xml', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'gpumon-agent-state-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const server = createServer().listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('gpumon agent on a state directory a power cut left broken', () => {
  it('sets each broken file aside, counts and logs it, and collects', async () => {
    const state = join(work, 'state');
    mkdirSync(join(state, 'spool'), { recursive: true, mode: 0o700 });
    writeFileSync(join(state, 'known-gpus.json'), '');
    writeFileSync(join(state, 'features.json'), '{"version":1,"gpus":[{"gpu_uuid":"GPU-');
    writeFileSync(join(state, 'spool', '000000000007.seg'), Buffer.from([0, 0, 0, 12, 0, 0]));
    const port = await freePort();
    const agent = spawn(process.execPath, [
      join(REPO, 'cli/bin/gpumon.js'), 'agent', '--output', 'json', '--interval', '1s', '--collect-timeout', '500ms',
      '--nvidia-smi', FAKE_NVIDIA_SMI, '--xid-source', 'none', '--attribution', 'false', '--hostname', 'state-host',
      '--state-dir', state, '--metrics-port', String(port),
    ], { env: { ...process.env, FAKE_NVIDIA_SMI_XML: XML } });
    let stdout = '';
    let stderr = '';
    agent.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    agent.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => agent.once('exit', resolve));
    let metrics = '';
    try {
      for (let waited = 0; stdout.split('\n').filter((line) => line.startsWith('{')).length < 2; waited += 100) {
        if (waited > 20_000 || agent.exitCode !== null) throw new Error(`the agent printed no samples:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      metrics = await (await fetch(`http://localhost:${port}/metrics`)).text();
    } finally {
      agent.kill('SIGTERM');
      await exited;
    }
    for (const file of ['known-gpus.json', 'features.json', 'spool-segment']) {
      expect(metrics).toContain(`gpumon_agent_state_files_set_aside_total{file="${file}"} 1`);
    }
    expect(stderr.match(/state file unreadable/g)).toHaveLength(3);
    expect(readdirSync(state).filter((name) => name.includes('.corrupt-')).map((name) => name.split('.corrupt-')[0]).sort()).toEqual(['features.json', 'known-gpus.json']);
    expect(readdirSync(join(state, 'spool')).filter((name) => name.includes('.corrupt-')).map((name) => name.split('.corrupt-')[0])).toEqual(['000000000007.seg']);
    for (const name of ['known-gpus.json', 'features.json']) expect(statSync(join(state, name)).mode & 0o777).toBe(0o600);
  });
});
