import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { GpumonError } from '@gpumon/runtime/errors';
import type { Workload } from '@gpumon/schemas/types.generated';
import { priceUsageOptions } from './options.js';
import { UNASSIGNED, loadTeams, parseTeams, teamOf } from './teams.js';

function pod(namespace: string, pod = 'trainer-0', container = 'main'): Workload {
  return {
    workload_id: `k8s:${namespace}/${pod}/${container}`, kind: 'KUBERNETES_POD', source: 'pod-resources', device_uuid: 'GPU-1', gpu_instance_id: null,
    cluster: 'prod-eu', namespace, pod, pod_uid: null, container, job_id: null, user: null, account: null, partition: null, pids: [], used_memory_mib: null,
  };
}

function job(account: string | null, user = 'alice', partition = 'gpu'): Workload {
  return {
    workload_id: 'slurm:hpc/4242', kind: 'SLURM_JOB', source: 'slurm-job-map', device_uuid: 'GPU-1', gpu_instance_id: null,
    cluster: 'hpc', namespace: null, pod: null, pod_uid: null, container: null, job_id: '4242', user, account, partition, pids: [], used_memory_mib: null,
  };
}

function problemsOf(raw: unknown): string {
  try {
    parseTeams(raw, 'teams.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(GpumonError);
    expect((error as GpumonError).code).toBe('config_invalid');
    return (error as Error).message;
  }
  throw new Error('expected the team file to be rejected');
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gpumon-teams-')), name);
  writeFileSync(path, text);
  return path;
}

describe('team rules', () => {
  it('takes the first rule whose every key matches, and unassigned when none does', () => {
    const teams = parseTeams({
      rules: [
        { team: 'vision-infra', match: { namespace: 'team-vision', pod: 'serve-*' } },
        { team: 'vision', match: { namespace: 'team-vision' } },
        { team: 'vision-too', match: { namespace: 'team-*' } },
        { team: 'hpc-gpu', match: { kind: 'SLURM_JOB', partition: 'gpu', user: 'al?ce' } },
      ],
    }, 'teams.yaml');
    expect(teamOf(teams, pod('team-vision', 'serve-7'))).toBe('vision-infra');
    expect(teamOf(teams, pod('team-vision', 'trainer-0'))).toBe('vision');
    expect(teamOf(teams, pod('team-nlp'))).toBe('vision-too');
    expect(teamOf(teams, pod('research'))).toBe(UNASSIGNED);
    expect(teamOf(teams, job('physics'))).toBe('hpc-gpu');
    expect(teamOf(teams, job('physics', 'alfonce'))).toBe(UNASSIGNED);
    expect(teamOf(teams, job('physics', 'alice', 'debug'))).toBe(UNASSIGNED);
  });

  it('matches globs against the whole value, case-sensitively, with everything but * and ? literal', () => {
    const teams = parseTeams({ rules: [{ team: 'ml', match: { account: 'ml-*' } }, { team: 'dotted', match: { account: 'a.b' } }] }, 'teams.yaml');
    expect(teamOf(teams, job('ml-research'))).toBe('ml');
    expect(teamOf(teams, job('ml-'))).toBe('ml');
    expect(teamOf(teams, job('xml-research'))).toBe(UNASSIGNED);
    expect(teamOf(teams, job('ML-research'))).toBe(UNASSIGNED);
    expect(teamOf(teams, job('a.b'))).toBe('dotted');
    expect(teamOf(teams, job('axb'))).toBe(UNASSIGNED);
  });

  it('matches no pattern, not even *, on a field the workload lacks, and checks the kind', () => {
    const teams = parseTeams({ rules: [{ team: 'has-account', match: { account: '*' } }, { team: 'slurm', match: { kind: 'SLURM_JOB' } }, { team: 'anyone' }] }, 'teams.yaml');
    expect(teamOf(teams, job('physics'))).toBe('has-account');
    expect(teamOf(teams, job(null))).toBe('slurm');
    expect(teamOf(teams, pod('research'))).toBe('anyone');
  });

  it('takes the team from a field with team_from, passing on to the next rule where the workload lacks it', () => {
    const teams = parseTeams({ rules: [{ team_from: 'account' }, { team_from: 'namespace', match: { namespace: 'team-*' } }, { team: 'k8s-other', match: { kind: 'KUBERNETES_POD' } }] }, 'teams.yaml');
    expect(teamOf(teams, job('chemistry'))).toBe('chemistry');
    expect(teamOf(teams, pod('team-nlp'))).toBe('team-nlp');
    expect(teamOf(teams, pod('batch-inference'))).toBe('k8s-other');
    expect(teamOf(teams, job(null))).toBe(UNASSIGNED);
  });

  it('names the file and the rule in every error', () => {
    expect(problemsOf({ rules: [{ team: 'a' }, { team: 'b', match: { kind: 'pod' } }] }))
      .toBe('team file teams.yaml is invalid:\n  rules[1] (team "b"): match.kind: must be KUBERNETES_POD or SLURM_JOB');
    expect(problemsOf({ rules: [{ team: 'a', match: { namespace: 'x', label: 'y' } }] })).toMatch(/rules\[0\] \(team "a"\): match: .*label/);
    expect(problemsOf({ rules: [{ team: 'a', team_from: 'account' }] })).toContain('rules[0] (team "a"): give exactly one of team and team_from');
    expect(problemsOf({ rules: [{ match: { namespace: 'x' } }] })).toContain('rules[0]: give exactly one of team and team_from');
    expect(problemsOf({ rules: [{ team_from: 'pod' }] })).toContain('rules[0] (team_from pod): team_from: must be one of namespace, account, user, partition, cluster');
    expect(problemsOf({ rules: [{ team: 'a', match: { namespace: 7 } }] })).toContain('rules[0] (team "a"): match.namespace: must be a string (a glob pattern such as ml-*)');
    expect(problemsOf({ rules: [{ team: 'a', match: { namespace: '' } }] })).toContain('rules[0] (team "a"): match.namespace: must not be empty');
    expect(problemsOf({ rules: [{ team: 'unattributed' }] })).toContain('rules[0] (team "unattributed"): team: "unattributed" is the part of a GPU no workload holds');
    expect(problemsOf({ rules: [{ team: '' }] })).toContain('rules[0] (team ""): team: must not be empty');
    expect(problemsOf({ rules: 'all' })).toContain('rules: must be a list of rules');
    expect(problemsOf({ rule: [] })).toMatch(/rule/);
    expect(problemsOf(null)).toContain('(top level)');
  });

  it('says which file cannot be read or parsed, and reads JSON as well as YAML', () => {
    expect(() => loadTeams('/nonexistent/teams.yaml')).toThrow(/cannot read team file \/nonexistent\/teams\.yaml: ENOENT/);
    const bad = tempFile('teams.yaml', 'rules: [\n');
    expect(() => loadTeams(bad)).toThrow(`team file ${bad} is neither YAML nor JSON`);
    const json = tempFile('teams.json', JSON.stringify({ rules: [{ team: 'vision', match: { namespace: 'team-vision' } }] }));
    expect(teamOf(loadTeams(json), pod('team-vision'))).toBe('vision');
  });
});

describe('the shipped team file', () => {
  const teams = loadTeams(loadConfig(priceUsageOptions, {}, {}).teamsFile);

  it('maps the simulator\'s namespaces and accounts to teams', () => {
    expect(['team-vision', 'team-nlp', 'team-recsys', 'team-audio', 'research', 'batch-inference', 'default'].map((ns) => teamOf(teams, pod(ns))))
      .toEqual(['vision', 'nlp', 'recsys', 'team-audio', 'research', 'platform', UNASSIGNED]);
    expect(['physics', 'chemistry', 'ml-research', 'bio'].map((account) => teamOf(teams, job(account))))
      .toEqual(['physics', 'chemistry', 'research', 'bio']);
    expect(teamOf(teams, job(null))).toBe(UNASSIGNED);
  });

  it('is found from any working directory, and another from GPUMON_TEAMS_FILE or --teams', () => {
    expect(loadConfig(priceUsageOptions, {}, {}).teamsFile).toMatch(/\/processors\/price-usage\/teams\.example\.yaml$/);
    expect(loadConfig(priceUsageOptions, {}, { GPUMON_TEAMS_FILE: '/etc/gpumon/teams.yaml' }).teamsFile).toBe('/etc/gpumon/teams.yaml');
    expect(loadConfig(priceUsageOptions, { teamsFile: 'site/teams.yaml' }, {}).teamsFile).toBe(join(process.cwd(), 'site/teams.yaml'));
  });
});
