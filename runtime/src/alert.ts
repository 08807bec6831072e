import type { AlertSeverity, GpuAlert } from '@gpumon/schemas/types.generated';
import { parse } from './config.js';

export const alertOptions = {
  alertResolveAfter: {
    env: 'GPUMON_ALERT_RESOLVE_AFTER', flag: 'alert-resolve-after', default: '5m', example: '90s',
    description: 'An alert resolves this long after the last sample that raised it (its ends_at); keep it a few sample intervals long.',
    schema: parse.durationMs(),
  },
} as const;

export interface AlertSpec {
  time: number;
  gpu_uuid: string;
  hostname: string;
  rule: string;
  source: string;
  severity: AlertSeverity;
  summary: string;
  runbook: string;
  /** Distinguishes alerts of one rule on one GPU (an Xid code, a metric). */
  subject?: string;
  labels?: Record<string, string>;
}

/**
 * An alert with Alertmanager's semantics, from one sample alone: re-sent while its condition
 * holds, resolved when no sample refreshes it before ends_at. No processor keeps alert state.
 */
export function buildAlert(spec: AlertSpec, resolveAfterMs: number): GpuAlert {
  return {
    time: spec.time,
    gpu_uuid: spec.gpu_uuid,
    hostname: spec.hostname,
    alert_key: [spec.rule, spec.gpu_uuid, ...(spec.subject === undefined ? [] : [spec.subject])].join(':'),
    rule: spec.rule,
    source: spec.source,
    severity: spec.severity,
    summary: spec.summary,
    runbook: spec.runbook,
    starts_at: spec.time,
    ends_at: spec.time + resolveAfterMs,
    labels: spec.labels ?? {},
  };
}
