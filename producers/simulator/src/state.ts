/** What a simulated board remembers from one reading to the next; faults act on it. */
export interface GpuState {
  utilization: number;
  /** Utilization the current job drives towards; 0 between jobs. */
  jobTarget: number;
  jobMemoryFraction: number;
  jobRemainingS: number;
  /** Process id of the current job, named in Xid lines; 0 between jobs. */
  jobPid: number;
  /** Die temperature the board's power and cooling settle it at (°C), before any cooling fault. */
  temperatureC: number;
  /** Temperature a failing cooling path adds (°C). */
  temperatureExcessC: number;
  /** Share of its maximum clock the board runs at after thermal and power-brake slowdowns. */
  clockFactor: number;
  powerBrake: boolean;
  eccVolatileSbe: number;
  eccAggregateSbe: number;
  eccVolatileDbe: number;
  eccAggregateDbe: number;
  retiredPagesSbe: number;
  retiredPagesDbe: number;
  retiredPagesPending: boolean;
  remappedRowsCorrectable: number;
  remappedRowsUncorrectable: number;
  remappedRowsPending: boolean;
  remappedRowsFailure: boolean;
  pcieReplays: number;
  /** Highest PCIe generation the link trains to now (the model's, unless a fault downtrained it). */
  pcieGenCap: number;
  pcieWidth: number;
}
