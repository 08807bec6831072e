import { parse } from '@gpumon/runtime/config';
import { consumerOptions } from '@gpumon/runtime/consumer';
import { DEFAULT_METRICS_PORTS } from '@gpumon/runtime/metrics';

export const alertmanagerOptions = {
  to: {
    env: 'GPUMON_ALERTMANAGER_URL', flag: 'to', example: 'http://am-1:9093,http://am-2:9093', repeatable: true,
    // Secret because a URL may carry a password (http://user:pass@host): never echoed, even in a configuration error.
    secret: true,
    description: 'Base URL of each Alertmanager-compatible API, comma-separated or --to repeated; every alert is posted to each <url>/api/v2/alerts (as Prometheus does for an Alertmanager cluster). Credentials in a URL go as HTTP Basic and are never logged.',
    schema: parse.urls(['http', 'https']),
  },
  ...consumerOptions('GPUMON_ALERTS_FORWARD', { group: 'gpumon-alerts-forward', metricsPort: DEFAULT_METRICS_PORTS['alerts-forward'], fromBeginning: 'false' }),
} as const;
