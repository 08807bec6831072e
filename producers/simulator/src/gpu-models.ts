/**
 * The data-centre boards the simulator models, with their published limits (NVIDIA data sheets;
 * idle figures as nvidia-smi shows them on real hosts). All are passively cooled: fan speed is null.
 */
export interface GpuModel {
  productName: string;
  architecture: string;
  memoryTotalMib: number;
  memoryReservedMib: number;
  bar1TotalMib: number;
  idlePowerW: number;
  powerLimitW: number;
  powerLimitMinW: number;
  powerLimitMaxW: number;
  maxOperatingC: number;
  slowdownC: number;
  shutdownC: number;
  /** Null on boards without an HBM temperature sensor. */
  memoryMaxC: number | null;
  graphicsMaxMhz: number;
  memoryMaxMhz: number;
  pcieGen: number;
  pcieWidth: number;
  /** Ampere and later remap rows; older boards retire pages. */
  remapsRows: boolean;
  /**
   * Rate of memory faults (ecc_storm, row_remap_failure) relative to the H100's HBM3, which the
   * default rates come from: NCSA Delta saw H100 memory errors 3.2 times as often as A100's; the
   * GDDR6 boards are given the A100's rate for want of a published figure.
   */
  memoryFaultScale: number;
  /** Share of hosts in the default fleet. */
  weight: number;
}

export const GPU_MODELS: readonly GpuModel[] = [
  {
    productName: 'NVIDIA H100 80GB HBM3', architecture: 'Hopper', memoryTotalMib: 81559, memoryReservedMib: 580,
    bar1TotalMib: 131072, idlePowerW: 70, powerLimitW: 700, powerLimitMinW: 200, powerLimitMaxW: 700,
    maxOperatingC: 87, slowdownC: 90, shutdownC: 92, memoryMaxC: 95, graphicsMaxMhz: 1980, memoryMaxMhz: 2619,
    pcieGen: 5, pcieWidth: 16, remapsRows: true, memoryFaultScale: 1, weight: 0.4,
  },
  {
    productName: 'NVIDIA A100-SXM4-80GB', architecture: 'Ampere', memoryTotalMib: 81920, memoryReservedMib: 498,
    bar1TotalMib: 131072, idlePowerW: 67, powerLimitW: 500, powerLimitMinW: 100, powerLimitMaxW: 500,
    maxOperatingC: 85, slowdownC: 89, shutdownC: 92, memoryMaxC: 95, graphicsMaxMhz: 1410, memoryMaxMhz: 1593,
    pcieGen: 4, pcieWidth: 16, remapsRows: true, memoryFaultScale: 1 / 3.2, weight: 0.3,
  },
  {
    productName: 'NVIDIA L40S', architecture: 'Ada Lovelace', memoryTotalMib: 46068, memoryReservedMib: 446,
    bar1TotalMib: 65536, idlePowerW: 35, powerLimitW: 350, powerLimitMinW: 100, powerLimitMaxW: 350,
    maxOperatingC: 89, slowdownC: 92, shutdownC: 95, memoryMaxC: null, graphicsMaxMhz: 2520, memoryMaxMhz: 9001,
    pcieGen: 4, pcieWidth: 16, remapsRows: true, memoryFaultScale: 1 / 3.2, weight: 0.15,
  },
  {
    productName: 'NVIDIA L4', architecture: 'Ada Lovelace', memoryTotalMib: 23034, memoryReservedMib: 374,
    bar1TotalMib: 32768, idlePowerW: 16, powerLimitW: 72, powerLimitMinW: 40, powerLimitMaxW: 72,
    maxOperatingC: 87, slowdownC: 90, shutdownC: 95, memoryMaxC: null, graphicsMaxMhz: 2040, memoryMaxMhz: 6251,
    pcieGen: 4, pcieWidth: 16, remapsRows: true, memoryFaultScale: 1 / 3.2, weight: 0.1,
  },
  {
    productName: 'Tesla T4', architecture: 'Turing', memoryTotalMib: 15360, memoryReservedMib: 0,
    bar1TotalMib: 256, idlePowerW: 10, powerLimitW: 70, powerLimitMinW: 60, powerLimitMaxW: 70,
    maxOperatingC: 85, slowdownC: 93, shutdownC: 96, memoryMaxC: null, graphicsMaxMhz: 1590, memoryMaxMhz: 5000,
    pcieGen: 3, pcieWidth: 16, remapsRows: false, memoryFaultScale: 1 / 3.2, weight: 0.05,
  },
];
