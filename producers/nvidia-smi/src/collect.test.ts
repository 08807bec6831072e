import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GpumonError } from '@gpumon/runtime/errors';
import { collectNvidiaSmiXml } from './collect.js';
import { parseNvidiaSmiXml } from './parse.js';

const FAKE = fileURLToPath(new URL('../testdata/bin/nvidia-smi', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../testdata/captured/dual_2070-v13.xml', import.meta.url));

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gpumon-collect-'));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(scratch, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<GpumonError> {
  const error = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(GpumonError);
  return error as GpumonError;
}

/** A process is gone once it has no /proc entry or is a zombie waiting for init to reap it. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('collectNvidiaSmiXml', () => {
  it('returns what nvidia-smi -q -x prints', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_XML', FIXTURE);
    const xml = await collectNvidiaSmiXml({ command: FAKE, timeoutMs: 5000 });
    expect(xml).toBe(readFileSync(FIXTURE, 'utf8'));
    expect(parseNvidiaSmiXml(xml, { hostname: 'h', time: 0 }).samples).toHaveLength(2);
  });

  it('returns output larger than 1 MB whole', async () => {
    const big = join(scratch, 'big.xml');
    writeFileSync(big, readFileSync(FIXTURE, 'utf8').repeat(40));
    vi.stubEnv('FAKE_NVIDIA_SMI_XML', big);
    const xml = await collectNvidiaSmiXml({ command: FAKE, timeoutMs: 5000 });
    expect(xml.length).toBeGreaterThan(3_000_000);
    expect(xml).toBe(readFileSync(big, 'utf8'));
  });

  it('kills a hung nvidia-smi and everything it started after the timeout', async () => {
    const pidFile = join(scratch, 'sleep.pid');
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'hang');
    vi.stubEnv('FAKE_NVIDIA_SMI_PID_FILE', pidFile);
    const started = Date.now();
    const error = await failure(collectNvidiaSmiXml({ command: FAKE, timeoutMs: 300 }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(error.code).toBe('service_unreachable');
    expect(error.message).toBe(`${FAKE} timed out after 300 ms and was killed`);
    const sleepPid = Number(readFileSync(pidFile, 'utf8'));
    await vi.waitFor(() => expect(isRunning(sleepPid)).toBe(false), { timeout: 2000 });
  });

  it('reports a failing nvidia-smi with its exit code and first stderr line', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'fail');
    const error = await failure(collectNvidiaSmiXml({ command: FAKE, timeoutMs: 5000 }));
    expect(error.code).toBe('service_unreachable');
    expect(error.message).toBe(
      `${FAKE} exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. ` +
        'Make sure that the latest NVIDIA driver is installed and running.',
    );
  });

  it('hands garbage through to the parser, which refuses it', async () => {
    vi.stubEnv('FAKE_NVIDIA_SMI_MODE', 'garbage');
    const xml = await collectNvidiaSmiXml({ command: FAKE, timeoutMs: 5000 });
    expect(() => parseNvidiaSmiXml(xml, { hostname: 'h', time: 0 })).toThrow(/not well-formed XML/);
  });

  it('names a command that does not exist', async () => {
    const missing = join(scratch, 'no-such-nvidia-smi');
    const error = await failure(collectNvidiaSmiXml({ command: missing, timeoutMs: 5000 }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(`${missing} not found (is it installed and on PATH?)`);
  });
});
