import { GpumonError } from '@gpumon/runtime/errors';
import type { FaultKind, FaultOnset } from './faults/fault.js';

// Apart from scenario.ts, which reads scenario files with a YAML parser and a schema: a simulator
// worker places the faults of a scenario it is handed, and loading those cost it 100 ms of CPU at
// every start.

/** A fault a scenario places on one GPU. */
export interface ScenarioFault {
  kind: FaultKind;
  /** Host number, 1-based, as in the host names. */
  host: number;
  /** GPU index on the host, 0-based, as nvidia-smi numbers them. */
  gpu: number;
  onset: FaultOnset;
  /** Onset to failure; the kind's default when absent. */
  durationMs: number | undefined;
}

/** Which faults a simulation injects, read from a YAML or JSON file. */
export interface Scenario {
  /** The file, named in errors. */
  source: string;
  /** Whether GPUs the scenario does not name draw random faults at the default rates. */
  randomFaults: boolean;
  faults: ScenarioFault[];
}

/**
 * The scenario's faults by GPU (`host:gpu`), checked against the fleet's shape: each names a GPU
 * of the fleet, and no GPU twice.
 */
export function scenarioFaultsByGpu(scenario: Scenario, hosts: number, gpusPerHost: number): Map<string, ScenarioFault> {
  const byGpu = new Map<string, ScenarioFault>();
  const problems: string[] = [];
  scenario.faults.forEach((fault, i) => {
    const where = `faults[${i}] (${fault.kind} on host ${fault.host}, gpu ${fault.gpu})`;
    const key = `${fault.host}:${fault.gpu}`;
    if (fault.host > hosts) problems.push(`${where}: the fleet has ${hosts} hosts`);
    else if (fault.gpu >= gpusPerHost) problems.push(`${where}: hosts have ${gpusPerHost} GPUs, numbered from 0`);
    else if (byGpu.has(key)) problems.push(`${where}: that GPU already has a fault`);
    else byGpu.set(key, fault);
  });
  if (problems.length > 0) throw new GpumonError('config_invalid', `scenario ${scenario.source}:\n  ${problems.join('\n  ')}`);
  return byGpu;
}
