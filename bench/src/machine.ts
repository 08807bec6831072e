import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/**
 * The kernel's huge pages: how many are reserved and how many are taken. A PostgreSQL on this
 * machine with its shared memory in 4 KB pages costs 7-18 µs of CPU a sample more
 * (docs/benchmarks.md), so a run says which it had. Zero where there is no /proc/meminfo.
 */
function hugePages(): { reserved: number; in_use: number } {
  let meminfo = '';
  try {
    meminfo = readFileSync('/proc/meminfo', 'utf8');
  } catch {
    return { reserved: 0, in_use: 0 };
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  // Reserved pages are promised to a mapping (PostgreSQL's, at start) but not yet touched.
  return { reserved: field('HugePages_Total'), in_use: field('HugePages_Total') - field('HugePages_Free') + field('HugePages_Rsvd') };
}

/** What the numbers were measured on. */
export function describeMachine(): { cpus: number; cpu_model: string; memory_gib: number; huge_pages: ReturnType<typeof hugePages>; node: string } {
  return { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), huge_pages: hugePages(), node: process.version };
}
