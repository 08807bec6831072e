import { parse } from '@gpumon/runtime/config';
import { metricsOptions } from '@gpumon/runtime/metrics';

export const alertmanagerOptions = {
  to: {
    env: 'GPUMON_ALERTMANAGER_URL', flag: 'to', example: 'http://alertmanager:9093',
    description: 'Base URL of the Alertmanager-compatible API; alerts are posted to <url>/api/v2/alerts.', schema: parse.url(['http', 'https']),
  },
  groupId: {
    env: 'GPUMON_ALERTS_FORWARD_GROUP', flag: 'group', default: 'gpumon-alerts-forward', example: 'gpumon-alerts-forward-eu',
    description: 'Kafka consumer group of the forwarder.', schema: parse.string(),
  },
  fromBeginning: {
    env: 'GPUMON_ALERTS_FORWARD_FROM_BEGINNING', flag: 'from-beginning', default: 'false', example: 'true',
    description: 'Where a new consumer group starts: the oldest alert (true) or the next one raised (false).', schema: parse.boolean(),
  },
  ...metricsOptions,
} as const;
