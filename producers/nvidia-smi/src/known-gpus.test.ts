import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { SetAsideFile } from '@gpumon/runtime/state-file';
import { KnownGpus } from './known-gpus.js';
import { parseNvidiaSmiXml } from './parse.js';

const XML = readFileSync(new URL('../testdata/captured/dual_2070-v13.xml', import.meta.url), 'utf8');
const HOUR = 3600_000;
const T0 = Date.UTC(2026, 0, 1);
const [first, second] = parseNvidiaSmiXml(XML, { hostname: 'host', time: T0 }).samples;
const readings = (time: number, ...which: ('first' | 'second')[]) =>
  which.map((name) => ({ ...(name === 'first' ? first! : second!), time }));

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(`${tmpdir()}/gpumon-known-`);
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function knownGpus(path: string | undefined, forgetLostAfterMs = 24 * HOUR): { known: KnownGpus; setAside: SetAsideFile[] } {
  const setAside: SetAsideFile[] = [];
  return { known: new KnownGpus({ path, forgetLostAfterMs, onSetAside: (file) => setAside.push(file) }), setAside };
}

describe('known GPUs', () => {
  it('report a GPU that stopped answering as lost, across a restart, with the time since its previous record', () => {
    const path = `${tempDir()}/known-gpus.json`;
    const before = knownGpus(path).known;
    before.reconcile(readings(T0, 'first', 'second'), T0);
    before.save();
    const after = knownGpus(path).known;
    const { samples } = after.reconcile(readings(T0 + 10_000, 'first'), T0 + 10_000);
    expect(samples.map((s) => [s.gpu_uuid, s.gpu_lost, s.interval_s])).toEqual([
      [first!.gpu_uuid, false, 10], [second!.gpu_uuid, true, 10],
    ]);
  });

  it('forget a GPU lost for longer than forgetLostAfter: it is no longer reported (nor billed)', () => {
    const { known } = knownGpus(undefined, 24 * HOUR);
    known.reconcile(readings(T0, 'first', 'second'), T0);
    for (let t = T0 + HOUR; t <= T0 + 24 * HOUR; t += HOUR) {
      const round = known.reconcile(readings(t, 'first'), t);
      expect(round.samples.filter((s) => s.gpu_lost).map((s) => s.gpu_uuid)).toEqual([second!.gpu_uuid]);
      expect(round.forgotten).toEqual([]);
    }
    const late = known.reconcile(readings(T0 + 25 * HOUR, 'first'), T0 + 25 * HOUR);
    expect(late.samples.map((s) => s.gpu_uuid)).toEqual([first!.gpu_uuid]);
    expect(late.forgotten.map((s) => s.gpu_uuid)).toEqual([second!.gpu_uuid]);
    expect(known.reconcile(readings(T0 + 26 * HOUR, 'first'), T0 + 26 * HOUR).samples).toHaveLength(1);
    // Back in the host later: a new GPU again, its first record with no interval.
    const back = known.reconcile(readings(T0 + 27 * HOUR, 'first', 'second'), T0 + 27 * HOUR);
    expect(back.samples.map((s) => [s.gpu_uuid, s.gpu_lost, s.interval_s])).toEqual([
      [first!.gpu_uuid, false, 3600], [second!.gpu_uuid, false, null],
    ]);
  });

  it.each([
    ['empty (a power cut after the rename)', ''],
    ['torn', '{"version":1,"gpus":[{"seen_at":1,"last":{"gpu_u'],
    ['not a list of GPUs', '{"version":1,"gpus":[{"seen_at":"x"}]}'],
  ])('that were saved %s are set aside, and the agent starts with none', (_, text) => {
    const dir = tempDir();
    writeFileSync(`${dir}/known-gpus.json`, text);
    const { known, setAside } = knownGpus(`${dir}/known-gpus.json`);
    expect(setAside.map((f) => f.path)).toEqual([`${dir}/known-gpus.json`]);
    expect(readdirSync(dir)).toEqual([setAside[0]!.setAsideAs.slice(dir.length + 1)]);
    expect(known.reconcile(readings(T0, 'first'), T0).samples).toHaveLength(1);
  });

  it('are saved private to the agent\'s user (they hold attribution read from root-only environ)', () => {
    const dir = tempDir();
    const { known } = knownGpus(`${dir}/known-gpus.json`);
    known.reconcile(readings(T0, 'first'), T0);
    known.save();
    expect(statSync(`${dir}/known-gpus.json`).mode & 0o777).toBe(0o600);
  });
});
