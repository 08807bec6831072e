import { z } from 'zod';
import type { Workload } from '@gpumon/schemas/types.generated';
import { invalidFile, readConfigFile, type EntryList } from './config-file.js';

/** The team of a workload no rule matches. */
export const UNASSIGNED = 'unassigned';
/** The team of the part of a GPU no workload holds; no rule may name it. */
export const UNATTRIBUTED = 'unattributed';
const WHAT = 'team file';

/** The workload fields a rule can match on, each with a glob pattern. */
const MATCHABLE = ['cluster', 'namespace', 'pod', 'container', 'account', 'user', 'partition', 'workload_id'] as const;
/** The workload fields whose value can be the team itself. */
const TEAM_FROM = ['namespace', 'account', 'user', 'partition', 'cluster'] as const;

const glob = () => z.string({ error: 'must be a string (a glob pattern such as ml-*)' }).min(1, { error: 'must not be empty' });
const teamName = () =>
  z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' })
    .refine((team) => team !== UNATTRIBUTED, { error: `"${UNATTRIBUTED}" is the part of a GPU no workload holds; give the team another name` });

const rule = z
  .strictObject({
    team: teamName().optional(),
    team_from: z.enum(TEAM_FROM, { error: `must be one of ${TEAM_FROM.join(', ')}` }).optional(),
    match: z
      .strictObject({
        kind: z.enum(['KUBERNETES_POD', 'SLURM_JOB'], { error: 'must be KUBERNETES_POD or SLURM_JOB' }).optional(),
        ...Object.fromEntries(MATCHABLE.map((key) => [key, glob().optional()])) as Record<(typeof MATCHABLE)[number], z.ZodOptional<ReturnType<typeof glob>>>,
      })
      .default({}),
  })
  .refine((r) => (r.team === undefined) !== (r.team_from === undefined), { error: 'give exactly one of team and team_from' });

const teamFile = z.strictObject({
  rules: z.array(rule, { error: 'must be a list of rules' }),
});

/** Errors name a rule by the team it gives. */
const RULES: EntryList = {
  key: 'rules',
  label: (entry) => {
    const { team, team_from: from } = (entry ?? {}) as { team?: unknown; team_from?: unknown };
    if (typeof team === 'string') return `team "${team}"`;
    return typeof from === 'string' ? `team_from ${from}` : undefined;
  },
};

interface TeamRule {
  /** The team, or the workload field that names it. */
  team: { name: string } | { from: (typeof TEAM_FROM)[number] };
  kind: Workload['kind'] | undefined;
  /** Every one must match: the workload's field, not null, against the pattern. */
  patterns: Array<{ field: (typeof MATCHABLE)[number]; pattern: RegExp }>;
}

export interface Teams {
  /** Where the rules came from, for error messages. */
  source: string;
  /** In file order: the first that matches a workload names its team. */
  rules: TeamRule[];
}

/** Validates a team file's content; errors name the source and each bad rule. */
export function parseTeams(raw: unknown, source: string): Teams {
  const parsed = teamFile.safeParse(raw);
  if (!parsed.success) throw invalidFile(WHAT, source, raw, parsed.error.issues, RULES);
  return {
    source,
    rules: parsed.data.rules.map(({ team, team_from: from, match }) => ({
      team: from === undefined ? { name: team as string } : { from },
      kind: match.kind,
      patterns: MATCHABLE.flatMap((field) => {
        const pattern = match[field];
        return pattern === undefined ? [] : [{ field, pattern: globPattern(pattern) }];
      }),
    })),
  };
}

/** Reads a YAML or JSON team file once, at start. */
export function loadTeams(path: string): Teams {
  return parseTeams(readConfigFile(path, WHAT), path);
}

/**
 * The team of the first rule every one of whose patterns the workload matches; a `team_from` rule
 * whose field the workload lacks (an account on a pod) does not match. No rule: unassigned.
 */
export function teamOf(teams: Teams, workload: Workload): string {
  for (const rule of teams.rules) {
    if (rule.kind !== undefined && rule.kind !== workload.kind) continue;
    if (!rule.patterns.every(({ field, pattern }) => workload[field] !== null && pattern.test(workload[field]))) continue;
    if ('name' in rule.team) return rule.team.name;
    const team = workload[rule.team.from];
    if (team !== null && team !== '' && team !== UNATTRIBUTED) return team;
  }
  return UNASSIGNED;
}

/** A glob as a whole-string, case-sensitive pattern: `*` any run of characters, `?` one, all else literal. */
function globPattern(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, 's');
}
