// Generated from schemas/avro/*.avsc by `npm run generate -w @gpumon/schemas`. Do not edit.

/** AGENT: read from nvidia-smi on a real host. SIMULATOR: modelled by gpumon simulate. */
export type SampleSource = 'AGENT' | 'SIMULATOR';

export interface MigInstance {
  /** GPU instance id. */
  gpu_instance_id: number;
  /** Compute instance id. */
  compute_instance_id: null | number;
  /** MIG device UUID (MIG-...), where the driver prints it. */
  mig_uuid: null | string;
  /** Profile name, e.g. 1g.10gb. */
  profile: null | string;
  /** Instance memory total (MiB). */
  memory_total_mib: null | number;
  /** Instance memory used (MiB). */
  memory_used_mib: null | number;
}

export interface XidEvent {
  /** When the kernel logged the event (Unix epoch, milliseconds). */
  time: number;
  /** Xid code, e.g. 48 (double-bit ECC error), 79 (fallen off the bus). */
  code: number;
  /** PCI id the kernel line names, e.g. 0000:3b:00. */
  pci_id: string;
  /** The rest of the kernel log line. */
  message: string;
}

/** Per-GPU rolling-window features computed at the edge by the shared feature engine (producers/features), so processors need no state. Windows are made of whole time buckets: 1-minute buckets for 5 minutes, 5-minute buckets for 1 hour, 1-hour buckets for 24 hours. Null where the window has no reading. */
export interface GpuFeatures {
  /** Mean GPU temperature over the last 5 minutes (°C). */
  temperature_mean_5m: null | number;
  /** Maximum GPU temperature over the last 5 minutes (°C). */
  temperature_max_5m: null | number;
  /** Standard deviation of GPU temperature over the last 5 minutes (°C). */
  temperature_std_5m: null | number;
  /** Mean GPU temperature over the last 1 hour (°C). */
  temperature_mean_1h: null | number;
  /** Maximum GPU temperature over the last 1 hour (°C). */
  temperature_max_1h: null | number;
  /** Standard deviation of GPU temperature over the last 1 hour (°C). */
  temperature_std_1h: null | number;
  /** Mean GPU temperature over the last 24 hours (°C). */
  temperature_mean_24h: null | number;
  /** Maximum GPU temperature over the last 24 hours (°C). */
  temperature_max_24h: null | number;
  /** Standard deviation of GPU temperature over the last 24 hours (°C). */
  temperature_std_24h: null | number;
  /** Mean board power draw over the last 5 minutes (W). */
  power_mean_5m: null | number;
  /** Maximum board power draw over the last 5 minutes (W). */
  power_max_5m: null | number;
  /** Standard deviation of board power draw over the last 5 minutes (W). */
  power_std_5m: null | number;
  /** Mean board power draw over the last 1 hour (W). */
  power_mean_1h: null | number;
  /** Maximum board power draw over the last 1 hour (W). */
  power_max_1h: null | number;
  /** Standard deviation of board power draw over the last 1 hour (W). */
  power_std_1h: null | number;
  /** Mean board power draw over the last 24 hours (W). */
  power_mean_24h: null | number;
  /** Maximum board power draw over the last 24 hours (W). */
  power_max_24h: null | number;
  /** Standard deviation of board power draw over the last 24 hours (W). */
  power_std_24h: null | number;
  /** Mean GPU utilization over the last 5 minutes (%). */
  utilization_mean_5m: null | number;
  /** Maximum GPU utilization over the last 5 minutes (%). */
  utilization_max_5m: null | number;
  /** Standard deviation of GPU utilization over the last 5 minutes (%). */
  utilization_std_5m: null | number;
  /** Mean GPU utilization over the last 1 hour (%). */
  utilization_mean_1h: null | number;
  /** Maximum GPU utilization over the last 1 hour (%). */
  utilization_max_1h: null | number;
  /** Standard deviation of GPU utilization over the last 1 hour (%). */
  utilization_std_1h: null | number;
  /** Mean GPU utilization over the last 24 hours (%). */
  utilization_mean_24h: null | number;
  /** Maximum GPU utilization over the last 24 hours (%). */
  utilization_max_24h: null | number;
  /** Standard deviation of GPU utilization over the last 24 hours (%). */
  utilization_std_24h: null | number;
  /** Increase of correctable ECC errors over the last hour (count; counter resets count from zero). */
  ecc_sbe_increase_1h: null | number;
  /** Increase of correctable ECC errors over the last 24 hours (count). */
  ecc_sbe_increase_24h: null | number;
  /** Increase of uncorrectable ECC errors over the last hour (count). */
  ecc_dbe_increase_1h: null | number;
  /** Increase of uncorrectable ECC errors over the last 24 hours (count). */
  ecc_dbe_increase_24h: null | number;
  /** Increase of retired pages, single- and double-bit, over the last 24 hours (count). */
  retired_pages_increase_24h: null | number;
  /** Increase of remapped rows, correctable and uncorrectable, over the last 24 hours (count). */
  remapped_rows_increase_24h: null | number;
  /** Increase of rows remapped for uncorrectable errors over the last 24 hours (count). */
  remapped_rows_uncorrectable_increase_24h: null | number;
  /** PCIe replays per minute over the last 5 minutes (count/min). */
  pcie_replays_per_min_5m: null | number;
  /** PCIe replays per minute over the last hour (count/min). */
  pcie_replays_per_min_1h: null | number;
  /** Xid events over the last hour (count). */
  xid_count_1h: null | number;
  /** Xid events over the last 24 hours (count). */
  xid_count_24h: null | number;
  /** Xid events DCGM rates FAIL (48, 64, 74, 79, 95, 119, 120) over the last 24 hours (count). */
  xid_critical_count_24h: null | number;
  /** Share of the last hour's samples with a hardware or software thermal slowdown active (fraction, 0 to 1). */
  throttle_thermal_duty_1h: null | number;
  /** Share of the last hour's samples with the software power cap active (fraction, 0 to 1). */
  throttle_power_cap_duty_1h: null | number;
  /** Share of the last hour's samples with the hardware power brake active (fraction, 0 to 1). */
  throttle_power_brake_duty_1h: null | number;
  /** Share of the last hour's samples with hardware slowdown active (fraction, 0 to 1). */
  throttle_hw_slowdown_duty_1h: null | number;
  /** Degrees left before hardware slowdown now: the sample's temperature_slowdown_margin_c, else slowdown temperature minus GPU temperature (°C); negative when past it. */
  slowdown_margin_c: null | number;
  /** Smallest slowdown margin over the last hour (°C). */
  slowdown_margin_min_1h: null | number;
  /** How much history the windows hold, up to 24 hours (s): features of a GPU seen for a short time are less reliable. */
  history_s: null | number;
}

export type FaultPhase = 'PRECURSOR' | 'FAILED';

/** Ground truth of the simulator's fault injection. */
export interface SimulatedFault {
  /** Fault scenario, e.g. thermal_cooling, ecc_storm, row_remap_failure, gsp_error, fall_off_bus, power_brake, pcie_degradation. */
  kind: string;
  /** PRECURSOR: the fault is building up and visible in readings; FAILED: the GPU has failed. */
  phase: FaultPhase;
  /** When the fault's first symptoms began (Unix epoch, milliseconds). */
  onset_time: number;
  /** When the GPU fails or failed (Unix epoch, milliseconds). */
  failure_time: number;
}

/** One process nvidia-smi lists on the GPU (processes/process_info). */
export interface GpuProcess {
  /** Process id in the host's PID namespace, as nvidia-smi prints it. */
  pid: number;
  /** Process type as nvidia-smi prints it: C (compute), G (graphics), C+G, or M / M+C on MIG. */
  type: null | string;
  /** Process name or path as nvidia-smi prints it. */
  name: null | string;
  /** GPU memory the process holds (MiB). */
  used_memory_mib: null | number;
  /** MIG GPU instance the process runs in. */
  gpu_instance_id: null | number;
  /** MIG compute instance the process runs in. */
  compute_instance_id: null | number;
  /** The workload (in workloads) the process belongs to; null when no pod or job was found for it. */
  workload_id: null | string;
}

export type WorkloadKind = 'KUBERNETES_POD' | 'SLURM_JOB';

/** A Kubernetes pod container or Slurm job on the GPU (or on one of its MIG slices). */
export interface Workload {
  /** Stable key of the workload across GPUs and hosts: k8s:<namespace>/<pod>/<container> where the kubelet names it (k8s:pod-<pod uid>/<container id, 12 hex digits> where only the cgroup does), slurm:<job id>; with a cluster name configured, k8s:<cluster>/<namespace>/<pod>/<container> and slurm:<cluster>/<job id>. */
  workload_id: string;
  /** KUBERNETES_POD: a container of a pod; SLURM_JOB: a Slurm job. */
  kind: WorkloadKind;
  /** Where the attribution came from: cgroup, pod-resources, slurm-job-map, environ, or simulator. */
  source: string;
  /** GPU or MIG device UUID the workload holds (MIG-... for a slice), as the kubelet or the Slurm prolog names it. */
  device_uuid: null | string;
  /** MIG GPU instance the workload runs in. */
  gpu_instance_id: null | number;
  /** Cluster name the agent is configured with (Kubernetes or Slurm cluster). */
  cluster: null | string;
  /** Kubernetes namespace. */
  namespace: null | string;
  /** Kubernetes pod name. */
  pod: null | string;
  /** Kubernetes pod UID. */
  pod_uid: null | string;
  /** Container name, or the container id where only the cgroup names it. */
  container: null | string;
  /** Slurm job id as SLURM_JOB_ID gives it (an array task has its own job id). */
  job_id: null | string;
  /** Slurm job user. */
  user: null | string;
  /** Slurm account. */
  account: null | string;
  /** Slurm partition. */
  partition: null | string;
  /** Its processes on this GPU (host PIDs); empty when it holds the GPU with nothing running. */
  pids: number[];
  /** GPU memory its processes hold on this GPU (MiB); null when none of them runs. */
  used_memory_mib: null | number;
}

/** One reading of one GPU (or MIG-enabled parent GPU) at one instant, as nvidia-smi -q -x reports it or as the simulator models it. Key: GPU UUID. Absent, N/A and deprecated readings are null, never 0. */
export interface GpuSample {
  /** When the reading was taken (Unix epoch, milliseconds, UTC). */
  time: number;
  /** GPU UUID as nvidia-smi prints it (GPU-xxxxxxxx-...). The record key. */
  gpu_uuid: string;
  /** Host the GPU sits in. */
  hostname: string;
  /** Who produced the reading. */
  source: SampleSource;
  /** nvidia-smi's index on that host at that moment (index). Informational only: indexes are not stable across boots, use gpu_uuid. */
  gpu_index: null | number;
  /** Board serial number. */
  serial: null | string;
  /** PCI bus id, e.g. 00000000:3B:00.0. */
  pci_bus_id: null | string;
  /** Product name, e.g. NVIDIA H100 80GB HBM3. */
  product_name: null | string;
  /** Product architecture, e.g. Hopper (nvidia-smi v11+). */
  architecture: null | string;
  /** NVIDIA driver version. */
  driver_version: null | string;
  /** Highest CUDA version the driver supports. */
  cuda_version: null | string;
  /** VBIOS version. */
  vbios_version: null | string;
  /** nvidia-smi XML schema the reading was parsed with, e.g. v12 (from the DOCTYPE). */
  nvsmi_schema: null | string;
  /** Percent of time one or more kernels ran on the GPU over the driver's sample period (%). */
  utilization_gpu_pct: null | number;
  /** Percent of time device memory was read or written (%). */
  utilization_memory_pct: null | number;
  /** Video encoder utilization (%). */
  utilization_encoder_pct: null | number;
  /** Video decoder utilization (%). */
  utilization_decoder_pct: null | number;
  /** Framebuffer memory total (MiB). */
  memory_total_mib: null | number;
  /** Framebuffer memory used (MiB). */
  memory_used_mib: null | number;
  /** Framebuffer memory free (MiB). */
  memory_free_mib: null | number;
  /** Framebuffer memory reserved by the driver (MiB, nvidia-smi v12+). */
  memory_reserved_mib: null | number;
  /** BAR1 memory total (MiB). */
  bar1_total_mib: null | number;
  /** BAR1 memory used (MiB). */
  bar1_used_mib: null | number;
  /** GPU core temperature (°C). */
  temperature_gpu_c: null | number;
  /** HBM memory temperature (°C); null on boards without the sensor. */
  temperature_memory_c: null | number;
  /** Temperature at which the GPU shuts down (°C). */
  temperature_shutdown_c: null | number;
  /** Temperature at which the GPU slows its clocks (°C). */
  temperature_slowdown_c: null | number;
  /** Maximum operating GPU temperature (°C). */
  temperature_max_operating_c: null | number;
  /** Maximum operating memory temperature (°C). */
  temperature_memory_max_c: null | number;
  /** Board power draw (W): instantaneous where the driver reports it, otherwise its power_draw. */
  power_draw_w: null | number;
  /** Board power averaged over the driver's last second (W, nvidia-smi v12+). */
  power_draw_average_w: null | number;
  /** Power limit currently enforced (W). */
  power_limit_w: null | number;
  /** Default power limit (W). */
  power_limit_default_w: null | number;
  /** Lowest settable power limit (W). */
  power_limit_min_w: null | number;
  /** Highest settable power limit (W). */
  power_limit_max_w: null | number;
  /** Graphics clock (MHz). */
  clock_graphics_mhz: null | number;
  /** SM clock (MHz). */
  clock_sm_mhz: null | number;
  /** Memory clock (MHz). */
  clock_memory_mhz: null | number;
  /** Video clock (MHz). */
  clock_video_mhz: null | number;
  /** Maximum graphics clock (MHz). */
  clock_graphics_max_mhz: null | number;
  /** Maximum SM clock (MHz). */
  clock_sm_max_mhz: null | number;
  /** Maximum memory clock (MHz). */
  clock_memory_max_mhz: null | number;
  /** Performance state (P-state number: 0 for P0, maximum performance, to 15, minimum). */
  performance_state: null | number;
  /** Fan speed as a percent of its maximum (%); null on passively cooled boards. */
  fan_speed_pct: null | number;
  /** Clock event reason active: GPU idle. */
  throttle_gpu_idle: null | boolean;
  /** Clock event reason active: application clocks setting. */
  throttle_applications_clocks_setting: null | boolean;
  /** Clock event reason active: software power cap. */
  throttle_sw_power_cap: null | boolean;
  /** Clock event reason active: hardware slowdown. */
  throttle_hw_slowdown: null | boolean;
  /** Clock event reason active: hardware thermal slowdown. */
  throttle_hw_thermal_slowdown: null | boolean;
  /** Clock event reason active: hardware power brake slowdown. */
  throttle_hw_power_brake_slowdown: null | boolean;
  /** Clock event reason active: software thermal slowdown. */
  throttle_sw_thermal_slowdown: null | boolean;
  /** Clock event reason active: sync boost. */
  throttle_sync_boost: null | boolean;
  /** Clock event reason active: display clocks setting. */
  throttle_display_clocks_setting: null | boolean;
  /** ECC mode currently enabled. */
  ecc_mode_enabled: null | boolean;
  /** Correctable (single-bit) ECC errors since the last driver load (count). */
  ecc_volatile_sbe: null | number;
  /** Uncorrectable (double-bit) ECC errors since the last driver load (count). */
  ecc_volatile_dbe: null | number;
  /** Correctable ECC errors over the board's life (count). */
  ecc_aggregate_sbe: null | number;
  /** Uncorrectable ECC errors over the board's life (count). */
  ecc_aggregate_dbe: null | number;
  /** Pages retired for multiple single-bit errors (count; pre-Ampere boards). */
  retired_pages_sbe: null | number;
  /** Pages retired for double-bit errors (count; pre-Ampere boards). */
  retired_pages_dbe: null | number;
  /** A page retirement waits for the next driver reload. */
  retired_pages_pending: null | boolean;
  /** Rows remapped for correctable errors (count; Ampere and later). */
  remapped_rows_correctable: null | number;
  /** Rows remapped for uncorrectable errors (count; Ampere and later). */
  remapped_rows_uncorrectable: null | number;
  /** A row remap waits for the next GPU reset. */
  remapped_rows_pending: null | boolean;
  /** A row remap failed: the GPU needs service. */
  remapped_rows_failure: null | boolean;
  /** Current PCIe link generation (generation, 1 to 6). */
  pcie_link_gen: null | number;
  /** Maximum PCIe link generation of the GPU and host together (generation). */
  pcie_link_gen_max: null | number;
  /** Current PCIe link width (lanes). */
  pcie_link_width: null | number;
  /** Maximum PCIe link width (lanes). */
  pcie_link_width_max: null | number;
  /** PCIe replay counter (count since driver load). */
  pcie_replay_count: null | number;
  /** PCIe replay counter rollovers (count). */
  pcie_replay_rollover_count: null | number;
  /** PCIe transmit throughput (KB/s). */
  pcie_tx_kbps: null | number;
  /** PCIe receive throughput (KB/s). */
  pcie_rx_kbps: null | number;
  /** Compute and graphics processes running on the GPU (count). */
  process_count: null | number;
  /** MIG mode currently enabled; null on GPUs without MIG. */
  mig_mode_enabled: null | boolean;
  /** MIG instances on this GPU; empty when MIG is off. */
  mig_instances: MigInstance[];
  /** Xid events the kernel logged for this GPU since the previous sample. */
  xid_events: XidEvent[];
  /** True when a GPU this host reported before no longer answers (fallen off the bus): every reading of the record is null. Sent once per collection while it stays lost. */
  gpu_lost: boolean;
  /** Rolling-window features of this GPU up to and including this reading; null where the producer computes none. */
  features: null | GpuFeatures;
  /** Simulator only: the fault this GPU is going through, as ground truth for evaluating detectors and training models; null for healthy GPUs and for real GPUs. */
  simulated_fault: null | SimulatedFault;
  /** Time since the producer's previous reading of this GPU (s); null for the first reading it makes of the GPU. What interval-based figures such as energy and cost cover. */
  interval_s: null | number;
  /** Degrees left before hardware slowdown, as the driver reports it (°C): gpu_temp_slow_threshold − gpu_temp on boards that print absolute thresholds, gpu_temp_tlimit − gpu_temp_slow_tlimit_threshold on boards that print the T.Limit scale instead (Ada and later on drivers 575+, where temperature_slowdown_c is null); negative when past it. */
  temperature_slowdown_margin_c: null | number;
  /** Processes on the GPU as nvidia-smi lists them; null when not read (producers older than this field, or a process list that reads N/A), [] when none runs. */
  processes: null | GpuProcess[];
  /** Pods and jobs on the GPU, keyed on the GPU or MIG UUID, never an index; null when attribution is off (or the producer predates it), [] when none was found. */
  workloads: null | Workload[];
  /** Why attribution of this GPU is incomplete this round, one reason each, e.g. "pid 4242: exited before /proc was read", "pod-resources /var/lib/kubelet/pod-resources/kubelet.sock: no answer in 1000 ms". Sampling never fails for these. */
  attribution_problems: string[];
}

/** DCGM-style verdict. */
export type HealthVerdict = 'PASS' | 'WARN' | 'FAIL';

export type HealthSubsystem = 'THERMAL_POWER' | 'MEMORY' | 'PCIE' | 'NVLINK' | 'DRIVER';

export interface HealthReason {
  /** Subsystem the reason belongs to. */
  subsystem: HealthSubsystem;
  /** Verdict this reason gives its subsystem. */
  verdict: HealthVerdict;
  /** Stable machine-readable code, e.g. ecc_volatile_dbe. */
  code: string;
  /** Points this reason took off the score. */
  penalty: number;
  /** Human-readable explanation with the values involved. */
  message: string;
}

/** Health of one GPU at one sample, from score-health. A pure function of that sample and the processor's config. Key: GPU UUID. */
export interface GpuHealth {
  /** Time of the sample this verdict is about (Unix epoch, milliseconds). */
  time: number;
  /** GPU UUID. The record key. */
  gpu_uuid: string;
  /** Host the GPU sits in. */
  hostname: string;
  /** Health score, 0 (failed) to 100 (healthy). Any FAIL scores below any WARN, any WARN below any PASS. */
  score: number;
  /** Worst verdict over the subsystems. */
  verdict: HealthVerdict;
  /** Thermal and power subsystem verdict. */
  thermal_power: HealthVerdict;
  /** Memory subsystem verdict (ECC, retired pages, remapped rows). */
  memory: HealthVerdict;
  /** PCIe subsystem verdict. */
  pcie: HealthVerdict;
  /** NVLink subsystem verdict. */
  nvlink: HealthVerdict;
  /** Driver subsystem verdict (Xid events). */
  driver: HealthVerdict;
  /** Why the score is below 100, worst first. */
  reasons: HealthReason[];
}

export type AnomalySeverity = 'INFO' | 'WARNING' | 'CRITICAL';

/** One anomaly found in one GPU sample by detect-anomalies. Key: GPU UUID. */
export interface GpuAnomaly {
  /** Time of the sample the anomaly was found in (Unix epoch, milliseconds). */
  time: number;
  /** GPU UUID. The record key. */
  gpu_uuid: string;
  /** Host the GPU sits in. */
  hostname: string;
  /** What was found, e.g. ecc_dbe, xid_critical, temperature_zscore. */
  kind: string;
  /** How urgent it is. */
  severity: AnomalySeverity;
  /** Sample field the anomaly is about. */
  metric: string;
  /** Value of that metric in the sample (unit of the metric). */
  value: null | number;
  /** What the value was expected to be (unit of the metric). */
  baseline: null | number;
  /** Robust z-score or rule strength; null for hard rules. */
  score: null | number;
  /** Same key for the same ongoing anomaly on the same GPU, so consumers can deduplicate. */
  dedup_key: string;
  /** Human-readable explanation. */
  message: string;
}

/** HIGH: at or above the operating threshold; MEDIUM: at or above the model's lower band; LOW: below both. */
export type RiskBand = 'LOW' | 'MEDIUM' | 'HIGH';

/** How much one feature pushed the probability up: the probability minus what it is with only this feature set to its reference (its median on healthy training GPUs). An occlusion estimate, not an exact Shapley value. */
export interface FeatureContribution {
  /** Feature name, as in GpuFeatures and gpu_feature_definitions. */
  name: string;
  /** The feature's value in this sample; null when missing. */
  value: null | number;
  /** The value it was replaced with; null when the reference is missing. */
  reference: null | number;
  /** Probability drop when the feature takes its reference (0 to 1). */
  contribution: number;
}

/** Failure prediction for one GPU at one sample, from predict-failure. Key: GPU UUID. */
export interface GpuPrediction {
  /** Time of the sample the prediction was made from (Unix epoch, milliseconds). */
  time: number;
  /** GPU UUID. The record key. */
  gpu_uuid: string;
  /** Host the GPU sits in. */
  hostname: string;
  /** Name of the model that made the prediction. */
  model_name: string;
  /** Version of that model (a row of gpu_models). */
  model_version: string;
  /** The prediction is about a failure within this many hours (h). */
  horizon_hours: number;
  /** Probability of a failure within the horizon (0 to 1). */
  probability: number;
  /** Operating threshold the model was published with (0 to 1). */
  threshold: number;
  /** probability >= threshold. */
  at_risk: boolean;
  /** Risk band of the probability, by the bands in the model's manifest. */
  risk_band: RiskBand;
  /** Up to three features that pushed the probability up most, largest first; only for MEDIUM and HIGH risk (empty for LOW). */
  top_features: FeatureContribution[];
  /** Configured cost of an unplanned interruption on this GPU's host (millionths of the currency); null when none is configured. */
  interruption_cost_micros: null | number;
  /** probability x interruption_cost_micros, rounded (millionths of the currency). */
  expected_cost_micros: null | number;
  /** ISO 4217 currency of the costs. */
  currency: null | string;
}

/** The part of the GPU's interval charged to one workload (or to none). */
export interface WorkloadCost {
  /** The workload charged, as in the sample's workloads (join gpu_workloads); null for the part no workload holds (unattributed). */
  workload_id: null | string;
  /** Team the workload belongs to by the team mapping; unassigned when no rule matches, unattributed for the part no workload holds. */
  team: string;
  /** Fraction of the GPU charged to it (0 to 1): the share of memory its processes hold among the GPU's workloads, even shares where no memory is read, the slice's share of memory on MIG (docs/attribution.md). */
  share: number;
  /** Its share of the energy (kWh). */
  energy_kwh: number;
  /** Its share of the cost of holding the GPU (currency micro-units). */
  allocated_cost_micros: number;
  /** Its share of the used cost (currency micro-units). */
  used_cost_micros: number;
  /** Allocated minus used (currency micro-units). */
  idle_cost_micros: number;
}

/** Cost, energy and carbon of one GPU over one sample interval, from price-usage, in OpenCost's vocabulary. Money is in integer micro-units of the currency (1 USD = 1,000,000). Key: GPU UUID. */
export interface GpuEconomics {
  /** Time of the sample the interval ends at (Unix epoch, milliseconds). */
  time: number;
  /** GPU UUID. The record key. */
  gpu_uuid: string;
  /** Host the GPU sits in. */
  hostname: string;
  /** Product name the price was looked up by. */
  product_name: null | string;
  /** ISO 4217 currency of the money fields, e.g. USD. */
  currency: string;
  /** Length of the interval charged (s). */
  interval_s: number;
  /** Energy at the facility meter over the interval, PUE included (kWh). */
  energy_kwh: number;
  /** Cost of that energy (currency micro-units). */
  energy_cost_micros: number;
  /** Cost of holding the GPU over the interval (currency micro-units). */
  allocated_cost_micros: number;
  /** Part of the allocated cost the GPU spent busy, by utilization (currency micro-units). */
  used_cost_micros: number;
  /** Allocated cost minus used cost (currency micro-units). */
  idle_cost_micros: number;
  /** Used ÷ allocated (0 to 1). */
  efficiency: number;
  /** Emissions of that energy at the grid's carbon intensity (kg CO2e). */
  co2e_kg: number;
  /** Allocated cost divided by the GPU-hours actually used (currency micro-units per used GPU-hour); null when the GPU was idle for the whole interval. */
  cost_per_used_gpu_hour_micros: null | number;
  /** The interval's cost split among the workloads on the GPU; the parts add up to the GPU's figures. Empty when the sample carried no attribution. */
  workloads: WorkloadCost[];
}

export type AlertSeverity = 'INFO' | 'WARNING' | 'CRITICAL';

/** An alert about one GPU for paging and ticketing consumers, with Alertmanager's semantics: it is re-sent with every sample in which its condition holds, and it resolves when it is not refreshed before ends_at. No processor keeps alert state. Key: GPU UUID. */
export interface GpuAlert {
  /** Time of the sample that raised (or refreshed) the alert (Unix epoch, milliseconds). */
  time: number;
  /** GPU UUID. The record key. */
  gpu_uuid: string;
  /** Host the GPU sits in. */
  hostname: string;
  /** Stable identity of the alert (rule and GPU, plus subject where one rule can fire several ways), for deduplication and grouping. */
  alert_key: string;
  /** Rule that raised it, e.g. health_fail, xid_critical, thermal_slowdown. */
  rule: string;
  /** Processor that raised it, e.g. score-health, detect-anomalies. */
  source: string;
  /** How urgent it is. */
  severity: AlertSeverity;
  /** One line for a pager, with the values involved. */
  summary: string;
  /** What to do about it (from NVIDIA's Xid catalog and DCGM's rules where they apply). */
  runbook: string;
  /** Alertmanager startsAt: the sample's time; Alertmanager keeps the earliest one of an alert that is still firing (Unix epoch, milliseconds). */
  starts_at: number;
  /** Alertmanager endsAt: the alert resolves at this time unless a later sample refreshes it (Unix epoch, milliseconds). */
  ends_at: number;
  /** Routing labels besides GPU, host, rule and severity, e.g. model, subsystem, xid. */
  labels: Record<string, string>;
}

/** A message a gpumon component could not process, kept whole with the reason. Key: the original key (GPU UUID where it had one). */
export interface DeadLetter {
  /** When the component gave up on the message (Unix epoch, milliseconds). */
  time: number;
  /** Component that rejected it, e.g. score-health, sink-timescaledb. */
  component: string;
  /** Topic the message was read from. */
  source_topic: string;
  /** Partition it was read from. */
  source_partition: number;
  /** Offset it was read at. */
  source_offset: number;
  /** Original key bytes. */
  key: null | Buffer;
  /** Original value bytes, untouched; only their first bytes when the whole would not fit the topic's size limit (then value_length and value_sha256 are set). */
  value: null | Buffer;
  /** Machine-readable reason, e.g. decode_failed, transform_failed, or a SQLSTATE. */
  error_code: string;
  /** Human-readable reason. */
  error_message: string;
  /** Length of the original value (bytes) when value holds only its first bytes, cut so the dead letter fits the topic; null when value is whole. */
  value_length: null | number;
  /** SHA-256 (hex) of the whole original value when value was cut; null when value is whole. */
  value_sha256: null | string;
}

/** The value type of each stream's topic. */
export interface StreamRecords {
  samples: GpuSample;
  health: GpuHealth;
  anomalies: GpuAnomaly;
  predictions: GpuPrediction;
  economics: GpuEconomics;
  alerts: GpuAlert;
  dlq: DeadLetter;
}
