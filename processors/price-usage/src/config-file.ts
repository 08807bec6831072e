import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';

/**
 * What the pricing and team files share: read once at start as YAML or JSON (JSON is YAML), and
 * rejected as a whole with every problem listed, each naming the entry it is in.
 */

/** The parsed content of a YAML or JSON file; `what` names the file in errors ("pricing file"). */
export function readConfigFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new GpumonError('config_invalid', `cannot read ${what} ${path}: ${errorMessage(error)}`, { cause: error });
  }
  try {
    return parseYaml(text);
  } catch (error) {
    throw new GpumonError('config_invalid', `${what} ${path} is neither YAML nor JSON: ${errorMessage(error)}`, { cause: error });
  }
}

/** How a file names the entries of its list, so an error says which one is wrong. */
export interface EntryList {
  /** The key of the list: "models". */
  key: string;
  /** What sets an entry apart, from its raw content: `match "A100"`; undefined where it has nothing to show. */
  label: (entry: unknown) => string | undefined;
}

/** One config_invalid error for every issue of a failed parse: `<what> <source> is invalid:` then one line each. */
export function invalidFile(what: string, source: string, raw: unknown, issues: readonly z.core.$ZodIssue[], list: EntryList): GpumonError {
  const problems = issues.map((issue) => `${where(raw, issue.path, list)}: ${issue.message}`);
  return new GpumonError('config_invalid', `${what} ${source} is invalid:\n  ${problems.join('\n  ')}`);
}

/** "models[2] (match "A100"): amortized.years" from an issue path, with the entry's label to find it by. */
function where(raw: unknown, path: ReadonlyArray<PropertyKey>, list: EntryList): string {
  if (path.length === 0) return '(top level)';
  const [first, second, ...rest] = path;
  if (first === list.key && typeof second === 'number') {
    const entry = (raw as Record<string, unknown[] | undefined>)[list.key]?.[second];
    const label = list.label(entry);
    const head = label === undefined ? `${list.key}[${second}]` : `${list.key}[${second}] (${label})`;
    return rest.length === 0 ? head : `${head}: ${rest.map(String).join('.')}`;
  }
  return path.map(String).join('.');
}
