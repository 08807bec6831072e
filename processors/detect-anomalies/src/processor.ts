import { buildAlert } from '@gpumon/runtime/alert';
import type { RecordProcessor } from '@gpumon/runtime/processor';
import { XID_CATALOG } from '@gpumon/runtime/xid-catalog';
import type { GpuAlert, GpuAnomaly } from '@gpumon/schemas/types.generated';
import { detectAnomalies } from './detect.js';
import { detectAnomaliesOptions } from './options.js';

/** What to do about each kind of anomaly; Xid anomalies take their action from the Xid catalog. */
const RUNBOOK: Record<string, string> = {
  gpu_lost: 'drain and reboot the node; reseat or replace the GPU if it falls off again',
  ecc_dbe: 'drain the GPU and reset it; replace it if double-bit errors recur (DCGM: memory FAIL)',
  row_remap_failure: 'drain the GPU and reset it; a failed remap needs an RMA once confirmed',
  row_remap_pending: 'reset the GPU at the next drain so the pending remap takes effect',
  page_retirement_pending: 'reload the driver at the next drain so the pending retirement takes effect',
  retired_pages_limit: 'drain the GPU; 63 or more retired pages calls for an RMA',
  remapped_rows_limit: 'schedule a replacement: the GPU has used up most of its spare rows',
  thermal_slowdown: 'check fans, airflow and inlet temperature of the node',
  power_brake: 'check the node\'s power supply and the rack\'s power brake signal',
  pcie_link_narrow: 'reseat the GPU or riser; check the slot at the next maintenance',
  temperature_zscore: 'check the cooling of the node: the GPU runs hotter than its own history at the same power',
  power_zscore: 'check the job and the board: the GPU draws more power than its utilization explains',
  ecc_sbe_rate: 'watch for Xid 63/64 and double-bit errors; drain and reset the GPU if the rate keeps rising',
  pcie_replay_rate: 'reseat the GPU or riser and check the slot; a degrading link often ends with Xid 79',
  slowdown_margin: 'check fans, airflow and inlet temperature before the GPU starts slowing down',
  throttle_duty: 'check cooling (thermal) or the power supply and brake signal (power brake) of the node',
};

function runbookOf(anomaly: GpuAnomaly, subject: string | undefined): string {
  if (anomaly.metric === 'xid_events') return XID_CATALOG.get(Number(subject))?.action ?? 'see NVIDIA\'s Xid catalog';
  return RUNBOOK[anomaly.kind] ?? 'see the anomaly message';
}

/** One alert per WARNING or CRITICAL anomaly, keyed like the anomaly, so each problem pages once and resolves on its own. */
export function anomalyAlerts(anomalies: readonly GpuAnomaly[], resolveAfterMs: number): GpuAlert[] {
  return anomalies.filter((a) => a.severity !== 'INFO').map((a) => {
    const prefix = `${a.kind}:${a.gpu_uuid}:`;
    const subject = a.dedup_key.startsWith(prefix) ? a.dedup_key.slice(prefix.length) : undefined;
    return buildAlert({
      time: a.time,
      gpu_uuid: a.gpu_uuid,
      hostname: a.hostname,
      rule: `anomaly_${a.kind}`,
      source: 'detect-anomalies',
      severity: a.severity,
      summary: `${a.hostname} ${a.gpu_uuid}: ${a.message}`,
      runbook: runbookOf(a, subject),
      ...(subject === undefined ? {} : { subject }),
      labels: { metric: a.metric, ...(a.metric === 'xid_events' && subject !== undefined ? { xid: subject } : {}) },
    }, resolveAfterMs);
  });
}

export const detectAnomaliesProcessor: RecordProcessor<'samples', 'anomalies' | 'alerts', typeof detectAnomaliesOptions> = {
  name: 'detect-anomalies',
  description: 'Anomalies per sample, hard rules and statistics on the edge features: gpu.samples.v1 → gpu.anomalies.v1, and gpu.alerts.v1 for every WARNING or CRITICAL one.',
  input: 'samples',
  outputs: ['anomalies', 'alerts'],
  options: detectAnomaliesOptions,
  create: (settings) => (sample) => {
    const anomalies = detectAnomalies(sample, settings);
    return [
      ...anomalies.map((record) => ({ stream: 'anomalies' as const, record })),
      ...anomalyAlerts(anomalies, settings.alertResolveAfter).map((record) => ({ stream: 'alerts' as const, record })),
    ];
  },
};
