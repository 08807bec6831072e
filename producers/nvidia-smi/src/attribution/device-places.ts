import type { GpuSample } from '@gpumon/schemas/types.generated';
import type { MigDevice } from './mig-devices.js';

/** Where a GPU or MIG device UUID sits on this host. */
export interface DevicePlace {
  gpuUuid: string;
  /** The MIG slice; null for a whole GPU. */
  gpuInstanceId: number | null;
  migUuid: string | null;
  profile: string | null;
}

/**
 * The GPU and MIG device UUIDs of this host, by UUID. `nvidia-smi -L` names MIG devices by UUID
 * and, on drivers before R470, by GPU instance too (`MIG-GPU-<uuid>/<gi>/<ci>`); later drivers
 * print only `MIG <profile> Device <n>`. There the n-th MIG device of a GPU is matched to the
 * n-th `mig_device` of `-q -x`: both list the driver's MIG device index in order.
 */
export function devicePlaces(samples: readonly GpuSample[], migDevices: readonly MigDevice[]): Map<string, DevicePlace> {
  const places = new Map<string, DevicePlace>();
  for (const sample of samples) {
    places.set(sample.gpu_uuid, { gpuUuid: sample.gpu_uuid, gpuInstanceId: null, migUuid: null, profile: null });
    const onThisGpu = migDevices.filter((device) => device.gpuUuid === sample.gpu_uuid);
    onThisGpu.forEach((device, position) => {
      const gpuInstanceId = device.gpuInstanceId ?? sample.mig_instances[position]?.gpu_instance_id ?? null;
      if (gpuInstanceId === null) return;
      places.set(device.migUuid, { gpuUuid: sample.gpu_uuid, gpuInstanceId, migUuid: device.migUuid, profile: device.profile });
    });
  }
  return places;
}

/** The MIG device of a slice, where `nvidia-smi -L` named it. */
export function migPlaceOf(places: ReadonlyMap<string, DevicePlace>, gpuUuid: string, gpuInstanceId: number): DevicePlace | undefined {
  for (const place of places.values()) {
    if (place.gpuUuid === gpuUuid && place.gpuInstanceId === gpuInstanceId) return place;
  }
  return undefined;
}
