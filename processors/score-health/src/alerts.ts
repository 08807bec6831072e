import { buildAlert } from '@gpumon/runtime/alert';
import { XID_CATALOG } from '@gpumon/runtime/xid-catalog';
import type { GpuAlert, GpuHealth, HealthReason } from '@gpumon/schemas/types.generated';

/** What to do about each reason, by its code; Xid reasons take their action from the Xid catalog. */
const RUNBOOK: Record<string, string> = {
  ecc_volatile_dbe: 'drain the GPU and reset it; replace it if double-bit errors recur (DCGM: memory FAIL)',
  remapped_rows_failure: 'drain the GPU and reset it; a failed remap needs an RMA once confirmed',
  retired_pages_limit: 'drain the GPU; 63 or more retired pages calls for an RMA',
  retired_pages_pending: 'reload the driver at the next drain so the pending retirement takes effect',
  remapped_rows_pending: 'reset the GPU at the next drain so the pending remap takes effect',
  remapped_rows_uncorrectable: 'watch the GPU; schedule a replacement if remaps keep growing',
  thermal_slowdown: 'check fans, airflow and inlet temperature of the node',
  power_brake: 'check the node\'s power supply and the rack\'s power brake signal',
  pcie_link_width_degraded: 'reseat the GPU or riser; check the slot at the next maintenance',
};

function runbookOf(reason: HealthReason): string {
  const xid = /^xid_(\d+)$/.exec(reason.code);
  if (xid?.[1] !== undefined) return XID_CATALOG.get(Number(xid[1]))?.action ?? 'see NVIDIA\'s Xid catalog';
  return RUNBOOK[reason.code] ?? 'see the health reasons';
}

/**
 * One alert per rule (reason code) that a verdict WARNs or FAILs on, keyed by rule and GPU, so each
 * problem pages once and resolves on its own. Several Xid events of one code in a sample are one
 * problem, so one alert (two would share a key, and the table would keep only the first).
 */
export function healthAlerts(health: GpuHealth, resolveAfterMs: number): GpuAlert[] {
  const firstByCode = new Map<string, HealthReason>();
  for (const r of health.reasons) if (r.verdict !== 'PASS' && !firstByCode.has(r.code)) firstByCode.set(r.code, r);
  return [...firstByCode.values()].map((r) => buildAlert({
    time: health.time,
    gpu_uuid: health.gpu_uuid,
    hostname: health.hostname,
    rule: `health_${r.code}`,
    source: 'score-health',
    severity: r.verdict === 'FAIL' ? 'CRITICAL' : 'WARNING',
    summary: `${health.hostname} ${health.gpu_uuid}: ${r.message} (health ${health.verdict}, score ${health.score})`,
    runbook: runbookOf(r),
    labels: { subsystem: r.subsystem.toLowerCase(), verdict: r.verdict },
  }, resolveAfterMs));
}
