import { eccStorm } from './ecc-storm.js';
import { fallOffBus } from './fall-off-bus.js';
import type { FaultKind, FaultKindSpec } from './fault.js';
import { gspError } from './gsp-error.js';
import { pcieDegradation } from './pcie-degradation.js';
import { powerBrake } from './power-brake.js';
import { rowRemapFailure } from './row-remap-failure.js';
import { thermalCooling } from './thermal-cooling.js';

export const FAULT_SPECS: Readonly<Record<FaultKind, FaultKindSpec>> = {
  thermal_cooling: thermalCooling,
  ecc_storm: eccStorm,
  row_remap_failure: rowRemapFailure,
  gsp_error: gspError,
  fall_off_bus: fallOffBus,
  power_brake: powerBrake,
  pcie_degradation: pcieDegradation,
};
