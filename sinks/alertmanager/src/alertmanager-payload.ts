import type { GpuAlert } from '@gpumon/schemas/types.generated';

/** One alert in Alertmanager's API v2 shape (`POST /api/v2/alerts` takes an array of these). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/**
 * Alertmanager identifies an alert by its labels, so they hold what the alert is about (rule, GPU,
 * host, severity, routing labels) and nothing that changes while it fires; the changing text goes
 * in annotations.
 */
export function toPostableAlert(alert: GpuAlert): PostableAlert {
  return {
    labels: {
      ...alert.labels,
      alertname: alert.rule,
      alert_key: alert.alert_key,
      gpu_uuid: alert.gpu_uuid,
      hostname: alert.hostname,
      severity: alert.severity.toLowerCase(),
      source: alert.source,
    },
    annotations: { summary: alert.summary, runbook: alert.runbook },
    startsAt: new Date(alert.starts_at).toISOString(),
    endsAt: new Date(alert.ends_at).toISOString(),
  };
}
