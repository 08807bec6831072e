import { parseString } from 'xml2js';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import { absoluteSlowdownMargin } from '@gpumon/schemas/slowdown-margin';
import type { GpuProcess, GpuSample, MigInstance } from '@gpumon/schemas/types.generated';
import { FLAG_FIELDS, NUMBER_FIELDS, STRING_FIELDS, TLIMIT_SCALE } from './field-paths.js';
import { GpuReader } from './gpu-reader.js';
import { isNoReading, occurrences, readPerformanceState, textOf, type XmlNode } from './xml-values.js';

export interface ParsedHost {
  /** From the DOCTYPE (`nvsmi_device_v12.dtd` → "v12"); null for the oldest outputs, which carry none. */
  schemaVersion: string | null;
  driverVersion: string | null;
  samples: GpuSample[];
  warnings: string[];
}

/** Schema versions the fixtures cover; others are parsed the same way, with a warning. */
const KNOWN_SCHEMAS: ReadonlySet<string> = new Set(['v10', 'v11', 'v12', 'v13']);

/** The options of the node-nvidia-smi package, so its users see the same shapes. */
const XML_OPTIONS = { explicitArray: false, trim: true };

/**
 * One GpuSample per `<gpu>` of `nvidia-smi -q -x`, in document order. A GPU without a UUID is
 * skipped with a warning; output that is not a complete nvidia-smi document throws decode_failed.
 */
export function parseNvidiaSmiXml(xml: string, context: { hostname: string; time: number }): ParsedHost {
  const log = decodeDocument(xml);
  const warnings: string[] = [];
  const schemaVersion = /<!DOCTYPE[^>]*nvsmi_device_(v\d+)\.dtd/.exec(xml)?.[1] ?? null;
  if (schemaVersion !== null && !KNOWN_SCHEMAS.has(schemaVersion)) {
    warnings.push(
      `nvidia-smi schema ${schemaVersion} is not one of ${[...KNOWN_SCHEMAS].join(', ')}: parsed with the newest known rules`,
    );
  }
  const header = new GpuReader(log, 'nvidia_smi_log', warnings);
  const driverVersion = header.string(['driver_version']);
  const cudaVersion = header.string(['cuda_version']);

  const samples: GpuSample[] = [];
  occurrences(elementOf(log, 'gpu')).forEach((gpu, index) => {
    const reader = new GpuReader(gpu, `GPU ${index}`, warnings);
    const uuid = reader.string(['uuid']);
    if (uuid === null) {
      const where = reader.string(STRING_FIELDS.pci_bus_id);
      warnings.push(`GPU ${index}${where === null ? '' : ` (${where})`} has no UUID: skipped`);
      return;
    }
    const named = new GpuReader(gpu, `GPU ${index} ${uuid}`, warnings);
    const numbers = mapFields(NUMBER_FIELDS, (spec) => named.number(spec));
    const processes = processList(named, `GPU ${index} ${uuid}`, warnings);
    samples.push({
      time: context.time,
      gpu_uuid: uuid,
      hostname: context.hostname,
      source: 'AGENT',
      gpu_index: index,
      driver_version: driverVersion,
      cuda_version: cudaVersion,
      nvsmi_schema: schemaVersion,
      ...mapFields(STRING_FIELDS, (places) => named.string(places)),
      ...numbers,
      // Absolute thresholds win where a board prints both forms.
      temperature_slowdown_margin_c: absoluteSlowdownMargin(numbers) ?? tlimitSlowdownMargin(named),
      ...mapFields(FLAG_FIELDS, (places) => named.flag(places)),
      performance_state: named.parsed('performance_state', readPerformanceState),
      process_count: processes === null ? null : processes.length,
      mig_instances: migInstances(named, `GPU ${index} ${uuid}`, warnings),
      processes,
      // Attribution (attribution/attribute.ts) fills these when it is on.
      workloads: null,
      attribution_problems: [],
      xid_events: [],
      gpu_lost: false,
      features: null,
      interval_s: null,
      simulated_fault: null,
    });
  });
  return { schemaVersion, driverVersion, samples, warnings };
}

function decodeDocument(xml: string): XmlNode {
  let document: unknown;
  let failure: unknown;
  try {
    // Without `async`, xml2js calls back before parseString returns.
    parseString(xml, XML_OPTIONS, (error: unknown, result: unknown) => {
      failure ??= error;
      document ??= result;
    });
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined && failure !== null) {
    throw new GpumonError('decode_failed', `nvidia-smi output is not well-formed XML: ${oneLine(errorMessage(failure))}`, {
      cause: failure,
    });
  }
  if (document === undefined || document === null) {
    throw new GpumonError('decode_failed', 'nvidia-smi output holds no XML element (empty or only a declaration)');
  }
  const root = Object.keys(document as object)[0];
  if (root !== 'nvidia_smi_log') {
    throw new GpumonError('decode_failed', `nvidia-smi output's root element is <${root}>, not <nvidia_smi_log>`);
  }
  return (document as { nvidia_smi_log: XmlNode }).nvidia_smi_log;
}

function oneLine(message: string): string {
  return message.split('\n').map((part) => part.trim()).filter(Boolean).join(', ');
}

function elementOf(node: XmlNode, name: string): XmlNode {
  return typeof node === 'object' && !Array.isArray(node) ? node[name] : undefined;
}

function mapFields<K extends string, S, V>(table: Readonly<Record<K, S>>, read: (spec: S) => V): Record<K, V> {
  const out = {} as Record<K, V>;
  for (const key of Object.keys(table) as K[]) out[key] = read(table[key]);
  return out;
}

/** Degrees left before slowdown on the T.Limit scale (field-paths.ts): current margin minus where slowdown starts. */
function tlimitSlowdownMargin(reader: GpuReader): number | null {
  const margin = reader.number(TLIMIT_SCALE.margin);
  const slowdown = reader.number(TLIMIT_SCALE.slowdown);
  return margin === null || slowdown === null ? null : margin - slowdown;
}

/** Empty `<processes>` (or "None") means none; an absent or N/A one means unknown. */
function processList(reader: GpuReader, label: string, warnings: string[]): GpuProcess[] | null {
  const processes = reader.element('processes');
  if (processes === undefined) return null;
  const text = textOf(processes);
  if (text === undefined) return processInfos(elementOf(processes, 'process_info'), label, warnings);
  if (text === '' || text === 'None') return [];
  if (!isNoReading(text)) reader.warn('processes', `"${text}" is not a process list; recorded as null`);
  return null;
}

/** A process without a readable pid cannot be attributed or told apart from the others: left out. */
function processInfos(infos: XmlNode, label: string, warnings: string[]): GpuProcess[] {
  const processes: GpuProcess[] = [];
  occurrences(infos).forEach((info, position) => {
    const process = new GpuReader(info, `${label} process ${position}`, warnings);
    const pid = process.integer('pid');
    if (pid === null) {
      process.warn('pid', 'no reading: process left out');
      return;
    }
    processes.push({
      pid,
      type: process.string(['type']),
      name: process.string(['process_name']),
      used_memory_mib: process.number({ unit: 'MiB', integer: false, from: ['used_memory'] }),
      gpu_instance_id: process.integer('gpu_instance_id'),
      compute_instance_id: process.integer('compute_instance_id'),
      workload_id: null,
    });
  });
  return processes;
}

/**
 * `mig_devices` reads "None" when MIG is off. Up to driver 575 at least, `-q -x` prints neither
 * the MIG device UUID nor its profile name (those come from `nvidia-smi -L`): both stay null.
 */
function migInstances(reader: GpuReader, label: string, warnings: string[]): MigInstance[] {
  const instances: MigInstance[] = [];
  occurrences(elementOf(reader.element('mig_devices'), 'mig_device')).forEach((device, position) => {
    const mig = new GpuReader(device, `${label} MIG device ${position}`, warnings);
    const gpuInstanceId = mig.integer('gpu_instance_id');
    if (gpuInstanceId === null) {
      mig.warn('gpu_instance_id', 'no reading: MIG device left out');
      return;
    }
    instances.push({
      gpu_instance_id: gpuInstanceId,
      compute_instance_id: mig.integer('compute_instance_id'),
      mig_uuid: null,
      profile: null,
      memory_total_mib: mig.number({ unit: 'MiB', integer: false, from: ['fb_memory_usage/total'] }),
      memory_used_mib: mig.number({ unit: 'MiB', integer: false, from: ['fb_memory_usage/used'] }),
    });
  });
  return instances;
}
