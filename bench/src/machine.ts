import { cpus, totalmem } from 'node:os';

/** What the numbers were measured on. */
export function describeMachine(): { cpus: number; cpu_model: string; memory_gib: number; node: string } {
  return { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version };
}
