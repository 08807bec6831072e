import { STRIDE } from './layout.js';

/** GPUs per chunk: large enough that per-array overhead vanishes, small enough to waste little on an 8-GPU host. */
export const CHUNK_GPUS = 128;

/** One typed array per column type, holding CHUNK_GPUS GPUs' state back to back. */
export interface Chunk {
  readonly f64: Float64Array;
  readonly f32: Float32Array;
  readonly u32: Uint32Array;
  readonly u16: Uint16Array;
  readonly u8: Uint8Array;
}

/**
 * Every GPU's state in a few large typed arrays, so a GPU costs its layout's bytes and no objects.
 * A GPU is a slot number; forgotten slots are reused, so the arena never grows past the peak count.
 */
export class Arena {
  private readonly chunks: Chunk[] = [];
  private readonly free: number[] = [];
  private next = 0;

  /** A zeroed slot. */
  allocate(): number {
    const reused = this.free.pop();
    if (reused !== undefined) {
      this.zero(reused);
      return reused;
    }
    const slot = this.next++;
    if (slot % CHUNK_GPUS === 0) {
      this.chunks.push({
        f64: new Float64Array(CHUNK_GPUS * STRIDE.f64),
        f32: new Float32Array(CHUNK_GPUS * STRIDE.f32),
        u32: new Uint32Array(CHUNK_GPUS * STRIDE.u32),
        u16: new Uint16Array(CHUNK_GPUS * STRIDE.u16),
        u8: new Uint8Array(CHUNK_GPUS * STRIDE.u8),
      });
    }
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  chunk(slot: number): Chunk {
    return this.chunks[Math.floor(slot / CHUNK_GPUS)]!;
  }

  zero(slot: number): void {
    const chunk = this.chunk(slot);
    const local = slot % CHUNK_GPUS;
    chunk.f64.fill(0, local * STRIDE.f64, (local + 1) * STRIDE.f64);
    chunk.f32.fill(0, local * STRIDE.f32, (local + 1) * STRIDE.f32);
    chunk.u32.fill(0, local * STRIDE.u32, (local + 1) * STRIDE.u32);
    chunk.u16.fill(0, local * STRIDE.u16, (local + 1) * STRIDE.u16);
    chunk.u8.fill(0, local * STRIDE.u8, (local + 1) * STRIDE.u8);
  }
}
