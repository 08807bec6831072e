import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONSUMER_STAGES, PROCESSORS, consumerStages } from './components.js';
import { WATCHED_GROUPS } from './pipeline-status.js';

const REPO = new URL('../../', import.meta.url);
const README = readFileSync(new URL('README.md', REPO), 'utf8');

/** The components list is the source of truth; the README's tables must say the same. */
describe('the one list of components', () => {
  it('is what the README lists as `gpumon process <name>` commands, each with its README', () => {
    const documented = [...README.matchAll(/^\| `gpumon process ([a-z-]+)` \| .*\(\[processors\/\1\]\(processors\/\1\/README\.md\)\) \|$/gm)].map((m) => m[1]);
    expect(documented).toEqual(PROCESSORS.map((p) => p.name));
    for (const { name } of PROCESSORS) expect(readFileSync(new URL(`processors/${name}/README.md`, REPO), 'utf8')).toMatch(new RegExp(`gpumon process ${name}`));
  });

  it('is what the README names in its folder table, and what the status line follows', () => {
    const folders = /^\| \[processors\/\]\(processors\/\) \| (.*) \|$/m.exec(README)?.[1] ?? '';
    expect([...folders.matchAll(/\[`([a-z-]+)`\]/g)].map((m) => m[1])).toEqual(PROCESSORS.map((p) => p.name));
    expect(WATCHED_GROUPS.map((g) => g.group).sort()).toEqual(['gpumon-sink-timescaledb', 'gpumon-processors', ...PROCESSORS.map((p) => `gpumon-${p.name}`)].sort());
    expect(CONSUMER_STAGES.map((s) => s.name)).toEqual(['sink', 'processors', ...PROCESSORS.map((p) => p.name)]);
  });

  it('lets `gpumon process all` merge every processor\'s settings: no key or variable names two different settings', () => {
    const seen = new Map<string, unknown>();
    for (const { options } of PROCESSORS) {
      for (const [key, option] of Object.entries(options)) {
        const other = seen.get(key) ?? [...seen.values()].find((o) => (o as { env: string }).env === option.env);
        if (other !== undefined) expect(other, `${key} (${option.env})`).toBe(option);
        seen.set(key, option);
      }
    }
  });

  it('describes both layouts of the processors: all on one consumer, or each on its own', () => {
    expect(consumerStages('co-located').map((s) => [s.args.join(' '), s.group])).toEqual([['sink', 'gpumon-sink-timescaledb'], ['process all', 'gpumon-processors']]);
    expect(consumerStages('split').map((s) => s.args.join(' '))).toEqual(['sink', ...PROCESSORS.map((p) => `process ${p.name}`)]);
    // Co-located, the status line still shows each processor's output.
    expect(consumerStages('co-located')[1]!.outputs).toEqual(consumerStages('split').slice(1).flatMap((s) => s.outputs));
  });
});
