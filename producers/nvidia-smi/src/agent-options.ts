import { parse } from '@gpumon/runtime/config';
import { DEFAULT_METRICS_PORTS, metricsOptions } from '@gpumon/runtime/metrics';

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
  forgetLostAfter: {
    env: 'GPUMON_AGENT_FORGET_LOST_AFTER', flag: 'forget-lost-after', default: '24h', example: '2h',
    description: 'A GPU that stopped answering is reported lost each round for this long, then forgotten (no longer reported, billed or alerted on).',
    schema: parse.durationMs(),
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
  attribution: {
    env: 'GPUMON_AGENT_ATTRIBUTION', flag: 'attribution', default: 'true', example: 'false',
    description: 'Attribute each GPU\'s processes to Kubernetes pod containers and Slurm jobs (workloads); false leaves workloads null.',
    schema: parse.boolean(),
  },
  procRoot: {
    env: 'GPUMON_AGENT_PROC_ROOT', flag: 'proc-root', default: '/proc', example: '/host/proc',
    description: 'Where the host\'s /proc is mounted (in a container: the host\'s, mounted read-only, as nvidia-smi prints host pids).',
    schema: parse.string(),
  },
  slurmJobMapDir: {
    env: 'GPUMON_AGENT_SLURM_JOB_MAP_DIR', flag: 'slurm-job-map-dir', default: '/run/gpumon/slurm-jobs', example: '/var/run/gpu-jobs',
    description: 'Directory where a Slurm prolog writes one file per GPU or MIG UUID naming the job that holds it; skipped when the default is absent.',
    schema: parse.string(),
  },
  podResourcesSocket: {
    env: 'GPUMON_AGENT_POD_RESOURCES_SOCKET', flag: 'pod-resources-socket', default: '/var/lib/kubelet/pod-resources/kubelet.sock', example: '/host/kubelet/pod-resources/kubelet.sock',
    description: 'The kubelet\'s pod-resources socket, which names the pod containers holding each GPU; skipped when the default is absent.',
    schema: parse.string(),
  },
  podResourcesTimeout: {
    env: 'GPUMON_AGENT_POD_RESOURCES_TIMEOUT', flag: 'pod-resources-timeout', default: '1s', example: '500ms',
    description: 'The kubelet\'s answer is given up after this long; the round goes on without pod names.',
    schema: parse.durationMs(),
  },
  cluster: {
    env: 'GPUMON_AGENT_CLUSTER', flag: 'cluster', example: 'hpc-east',
    description: 'Cluster name put in every workload, and in the workload ids of Slurm jobs and named pods (slurm:<cluster>/<job id>, k8s:<cluster>/<namespace>/<pod>/<container>) so those of two clusters never meet.',
    schema: parse.optionalString(),
  },
  metricsPort: { ...metricsOptions.metricsPort, env: 'GPUMON_AGENT_METRICS_PORT', default: String(DEFAULT_METRICS_PORTS.agent) },
  metricsAddress: metricsOptions.metricsAddress,
} as const;
