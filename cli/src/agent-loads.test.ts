import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `gpumon agent` must not load what only the processors, the sink or the model need: every module
 * the built CLI resolves (ESM imports and require() alike, through a resolve hook) is recorded while
 * the agent collects once from the fake nvidia-smi.
 */
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(`${tmpdir()}/gpumon-agent-loads-`);
const loaded = `${work}/loaded.txt`;
const RECORD_RESOLVED = `data:text/javascript,${encodeURIComponent(`
import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); appendFileSync(${JSON.stringify(loaded)}, resolved.url + '\\n'); return resolved; } });
`)}`;

/** Modules of the processors, the sink, the migrations, the model runtime and PostgreSQL. */
const NOT_FOR_THE_AGENT = /\/node_modules\/(onnxruntime-node|onnxruntime-common|pg|pg-[a-z]+)\/|\/(processors|sinks|migrations|models)\//;

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The URLs of the modules the built CLI resolved while running `args`. */
function modulesLoadedBy(args: string[], env: Record<string, string> = {}): { result: SpawnSyncReturns<string>; modules: string[] } {
  rmSync(loaded, { force: true });
  const result = spawnSync(process.execPath, ['--import', RECORD_RESOLVED, `${REPO}cli/bin/gpumon.js`, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { result, modules: readFileSync(loaded, 'utf8').trim().split('\n') };
}

describe('gpumon agent', () => {
  it('collects once without loading onnxruntime, pg, processors or sinks', () => {
    const { result, modules } = modulesLoadedBy(['agent', '--once', '--output', 'json',
      '--nvidia-smi', `${REPO}producers/nvidia-smi/testdata/bin/nvidia-smi`, '--attribution', 'false', '--xid-source', 'none', '--hostname', 'loads-test'],
    { FAKE_NVIDIA_SMI_XML: `${REPO}producers/nvidia-smi/testdata/captured/dual_2070-v13.xml` });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { hostname: string }).hostname)).toEqual(['loads-test', 'loads-test']);
    expect(modules.some((url) => url.includes('/producers/nvidia-smi/'))).toBe(true);
    expect(modules.filter((url) => NOT_FOR_THE_AGENT.test(url))).toEqual([]);
  });
});

describe('gpumon process', () => {
  it('loads the model runtime only for predict-failure', () => {
    // The definitions of every processor load (their flags); predict-failure's model only where it starts.
    const { result, modules } = modulesLoadedBy(['process', 'score-health', '--help']);
    expect(result.status, result.stderr).toBe(0);
    expect(modules.some((url) => url.includes('/processors/predict-failure/'))).toBe(true);
    expect(modules.filter((url) => /\/node_modules\/onnxruntime-(node|common)\//.test(url))).toEqual([]);
  });
});
