import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import { FAULT_KINDS, type FaultOnset } from './faults/fault.js';
import type { Scenario } from './scenario-faults.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

function durationMs(text: string): number {
  const [, amount, unit] = DURATION.exec(text) as RegExpExecArray;
  return Math.round(Number(amount) * (UNIT_MS[unit as string] as number));
}

const duration = z.string({ error: 'must be a duration like 90s, 30m, 36h or 2d' })
  .regex(DURATION, { error: 'must be a duration like 90s, 30m, 36h or 2d' });

const onset = z.string({ error: 'must be a duration after the start like 2h, or an ISO 8601 time' }).transform((text, ctx): FaultOnset => {
  if (DURATION.test(text)) return { afterStartMs: durationMs(text) };
  const atMs = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(atMs)) ctx.addIssue({ code: 'custom', message: 'must be a duration after the start like 2h, or an ISO 8601 time' });
  return { atMs };
});

const scenarioSchema = z.strictObject({
  random_faults: z.boolean({ error: 'must be true or false' }).default(true),
  faults: z.array(z.strictObject({
    kind: z.enum(FAULT_KINDS, { error: `must be one of ${FAULT_KINDS.join(', ')}` }),
    host: z.int({ error: 'must be a host number from 1' }).min(1, { error: 'must be a host number from 1' }),
    gpu: z.int({ error: 'must be a GPU index from 0' }).min(0, { error: 'must be a GPU index from 0' }),
    onset,
    duration: duration.optional(),
  })).default([]),
}, { error: 'must be a mapping with random_faults and faults' });

/** Parses and validates a scenario; errors name `source` and the bad entry. */
export function parseScenario(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new GpumonError('config_invalid', `scenario ${source}: not valid YAML or JSON: ${errorMessage(error)}`, { cause: error });
  }
  const parsed = scenarioSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${pathOf(issue.path) || '(top level)'}: ${issue.message}`);
    throw new GpumonError('config_invalid', `scenario ${source}:\n  ${problems.join('\n  ')}`);
  }
  return {
    source,
    randomFaults: parsed.data.random_faults,
    faults: parsed.data.faults.map((f) => ({
      kind: f.kind, host: f.host, gpu: f.gpu, onset: f.onset, durationMs: f.duration === undefined ? undefined : durationMs(f.duration),
    })),
  };
}

/** Reads a scenario file (YAML, or JSON, which YAML includes). */
export function loadScenario(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GpumonError('config_invalid', `scenario ${path}: cannot read it: ${errorMessage(error)}`, { cause: error });
  }
  return parseScenario(text, path);
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
