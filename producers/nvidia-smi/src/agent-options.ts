import { parse } from '@gpumon/runtime/config';
import { metricsOptions } from '@gpumon/runtime/metrics';

export const agentOptions = {
  interval: {
    env: 'GPUMON_AGENT_INTERVAL', flag: 'interval', default: '10s', example: '1s',
    description: 'Time between two collections of every GPU on the host.', schema: parse.durationMs(),
  },
  collectTimeout: {
    env: 'GPUMON_AGENT_COLLECT_TIMEOUT', flag: 'collect-timeout', default: '5s', example: '3s',
    description: 'nvidia-smi is killed and the round counted as failed after this long (it hangs on some failing GPUs).',
    schema: parse.durationMs(),
  },
  nvidiaSmi: {
    env: 'GPUMON_AGENT_NVIDIA_SMI', flag: 'nvidia-smi', default: 'nvidia-smi', example: '/usr/bin/nvidia-smi',
    description: 'The nvidia-smi command (a name on PATH or a path).', schema: parse.string(),
  },
  xidSource: {
    env: 'GPUMON_AGENT_XID_SOURCE', flag: 'xid-source', default: 'dmesg', example: 'file:/var/log/kern.log',
    description: 'Where Xid events are read: dmesg, journal (journalctl -k), file:<path>, or none.',
    schema: parse.string().regex(/^(dmesg|journal|none|file:.+)$/, { error: 'must be dmesg, journal, none or file:<path>' }),
  },
  hostname: {
    env: 'GPUMON_AGENT_HOSTNAME', flag: 'hostname', example: 'gpu-node-017',
    description: 'Host name put in every record (default: the machine\'s host name).', schema: parse.optionalString(),
  },
  stateDir: {
    env: 'GPUMON_AGENT_STATE_DIR', flag: 'state-dir', default: '/var/lib/gpumon-agent', example: '/data/gpumon-agent',
    description: 'Where the agent keeps its spool, feature windows and known GPUs across restarts.', schema: parse.string(),
  },
  spoolMaxMb: {
    env: 'GPUMON_AGENT_SPOOL_MAX_MB', flag: 'spool-max-mb', default: '256', example: '1024',
    description: 'Bound of the on-disk spool that holds samples while Kafka is unreachable; the oldest go first beyond it.',
    schema: parse.int(1, 1_000_000),
  },
  once: {
    env: 'GPUMON_AGENT_ONCE', flag: 'once', default: 'false', example: 'true', switch: true,
    description: 'Collect once and exit (with --output json: print what the agent sees on this host).', schema: parse.boolean(),
  },
  output: {
    env: 'GPUMON_AGENT_OUTPUT', flag: 'output', default: 'kafka', example: 'json',
    description: 'kafka: send to gpu.samples.v1. json: print one JSON line per record on stdout instead, field names as in the Avro schema.',
    schema: parse.oneOf(['kafka', 'json']),
  },
  metricsPort: { ...metricsOptions.metricsPort, env: 'GPUMON_AGENT_METRICS_PORT', default: '9401' },
} as const;
