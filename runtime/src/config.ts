import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { GpumonError } from './errors.js';

/** The repository root, from src/ and from dist/ alike. */
const REPO_ROOT = new URL('../../', import.meta.url);

/**
 * Every setting of every gpumon process is declared once here or beside its component, with the
 * environment variable and flag that set it, a description, an example and a default. The CLI's
 * --help and the READMEs' config tables come from these declarations.
 */
export interface OptionSpec<S extends z.ZodType = z.ZodType> {
  env: string;
  flag: string;
  description: string;
  example: string;
  /** Raw default, parsed by `schema` like any value a user gives. Absent: optional or required per schema. */
  default?: string;
  schema: S;
  /** Never printed; may also come from the file that `<env>_FILE` names (mounted Secrets stay out of `ps` and env dumps). */
  secret?: boolean;
  /** On the command line a bare switch (`--once`) meaning true, rather than `--flag <value>`. */
  switch?: boolean;
  /** On the command line, may be given several times; the values arrive joined with commas. */
  repeatable?: boolean;
}

export type ConfigSpec = Record<string, OptionSpec>;
export type ConfigOf<C extends ConfigSpec> = { [K in keyof C]: z.output<C[K]['schema']> };

/** Values by option key, as given on the command line (commander's camelCase keys). */
export type FlagValues = Record<string, string | undefined>;

export function loadConfig<C extends ConfigSpec>(
  spec: C,
  flags: FlagValues = {},
  env: NodeJS.ProcessEnv = process.env,
): ConfigOf<C> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [key, option] of Object.entries(spec)) {
    let raw: string | undefined;
    try {
      raw = flags[key] ?? fromEnvironment(option, env) ?? option.default;
    } catch (error) {
      problems.push(`${option.env}_FILE: ${error instanceof Error ? error.message : String(error)}`);
      continue;
    }
    const parsed = option.schema.safeParse(raw === '' ? undefined : raw);
    if (parsed.success) {
      config[key] = parsed.data;
    } else {
      const shown = raw === undefined ? 'nothing' : option.secret ? '(secret)' : JSON.stringify(raw);
      const why = parsed.error.issues.map((issue) => issue.message).join('; ');
      problems.push(`${option.env} (--${option.flag}): ${why}; got ${shown}, e.g. ${option.example}`);
    }
  }
  if (problems.length > 0) {
    throw new GpumonError('config_invalid', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return config as ConfigOf<C>;
}

/**
 * An option's variable, or for a secret the file that `<env>_FILE` names instead, as Kubernetes mounts
 * a Secret key or systemd a credential: read without its trailing line break, which editors and `echo` add.
 */
function fromEnvironment(option: OptionSpec, env: NodeJS.ProcessEnv): string | undefined {
  const value = env[option.env];
  const path = option.secret ? env[`${option.env}_FILE`] : undefined;
  if (path === undefined || path === '') return value;
  if (value !== undefined && value !== '') throw new Error(`both ${option.env} and ${option.env}_FILE are set; keep one`);
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

function isUrlOf(value: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol.replace(/:$/, ''));
  } catch {
    return false;
  }
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parsers for the raw strings that environment variables and flags give. */
export const parse = {
  string: () => z.string({ error: 'required' }).min(1),
  optionalString: () => z.string().optional(),
  int: (min: number, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .min(min, { error: `must be at least ${min}` })
      .max(max, { error: `must be at most ${max}` }),
  boolean: () =>
    z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' }).transform(
      (v) => v === 'true' || v === '1' || v === 'yes',
    ),
  /** "10s", "500ms", "2m", "1h" → milliseconds. */
  durationMs: () =>
    z
      .string({ error: 'required' })
      .regex(/^\d+(\.\d+)?(ms|s|m|h)$/, { error: 'must be a duration like 500ms, 10s, 2m or 1h' })
      .transform((v) => {
        const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v) as unknown as [string, string, string];
        return Math.round(Number(amount) * (DURATION_UNITS_MS[unit] as number));
      }),
  url: (protocols: string[]) => z.string({ error: 'required' }).refine((v) => isUrlOf(v, protocols), { error: `must be a ${protocols.join(' or ')} URL` }),
  /** One or more URLs, comma-separated (a repeatable flag arrives so). */
  urls: (protocols: string[]) =>
    z
      .string({ error: 'required' })
      .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
      .pipe(
        z
          .array(z.string().refine((v) => isUrlOf(v, protocols), { error: `each must be a ${protocols.join(' or ')} URL` }))
          .min(1, { error: 'at least one URL' }),
      ),
  hostPorts: () =>
    z
      .string({ error: 'required' })
      .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
      .pipe(
        z
          .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, { error: 'each broker must be host:port' }))
          .min(1, { error: 'at least one broker' }),
      ),
  oneOf: <T extends string>(values: readonly [T, ...T[]]) =>
    z.enum(values, { error: `must be one of ${values.join(', ')}` }),
  /** One or more of `values`, comma-separated, each once. */
  someOf: <T extends string>(values: readonly [T, ...T[]]) =>
    z
      .string({ error: 'required' })
      .transform((v) => [...new Set(v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))])
      .pipe(z.array(z.enum(values, { error: `each must be one of ${values.join(', ')}` })).min(1, { error: 'at least one' })),
  /**
   * A file path: `shipped` (a file the repository ships, as a path from its root) resolves from the
   * repository, so the default works whatever the working directory; any other path from the working directory.
   */
  file: (shipped: string) =>
    z.string({ error: 'required' }).min(1).transform((path) => (path === shipped ? fileURLToPath(new URL(shipped, REPO_ROOT)) : resolve(path))),
};

/** The Markdown table of a spec that component READMEs carry; a test keeps each README's copy current. */
export function renderOptionsTable(spec: ConfigSpec): string {
  const rows = Object.values(spec).map(
    (o) =>
      `| \`${o.env}\` | \`--${o.flag}\` | ${o.default !== undefined && !o.secret ? `\`${o.default}\`` : '–'} | ${o.description}${
        o.secret ? ` Or \`${o.env}_FILE\`: a file holding it.` : ''
      } |`,
  );
  return ['| variable | flag | default | what |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
