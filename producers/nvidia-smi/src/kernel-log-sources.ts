import { open, stat } from 'node:fs/promises';
import { uptime } from 'node:os';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import type { XidEvent } from '@gpumon/schemas/types.generated';
import { runCommand } from './run-command.js';
import { parseXidLine, type LineClock } from './xid.js';

/**
 * Where the agent reads Xid events. Each `read()` resolves with the events logged since the
 * previous call and rejects with a GpumonError when the log cannot be read; the agent counts that
 * and goes on.
 */
export interface KernelLogXidSource {
  read(): Promise<XidEvent[]>;
}

export interface XidSourceOptions {
  /** Events before this instant (epoch ms) are history, not news: default, when the source is created. */
  since?: number;
  /** For dmesg and journalctl. Default 5000 ms. */
  timeoutMs?: number;
}

/** `dmesg`, `journal` or `file:<path>`. */
export function createXidSource(spec: string, options: XidSourceOptions = {}): KernelLogXidSource {
  const since = options.since ?? Date.now();
  const timeoutMs = options.timeoutMs ?? 5000;
  if (spec === 'dmesg') return new DmesgXidSource(since, timeoutMs);
  if (spec === 'journal') return new JournalXidSource(since, timeoutMs);
  if (spec.startsWith('file:') && spec.length > 'file:'.length) return new FileXidSource(spec.slice('file:'.length));
  throw new GpumonError('config_invalid', `Xid source "${spec}" is none of dmesg, journal, file:<path>`);
}

function systemClock(): LineClock {
  const nowMs = Date.now();
  return { nowMs, bootTimeMs: nowMs - uptime() * 1000 };
}

/**
 * Plain `dmesg`, whose `[seconds since boot]` stamp a line keeps for good, so "newer than the last
 * line seen" is exact. `--time-format iso` and `-T` convert that stamp with the wall clock at each
 * call, so the same line can change time after an NTP step (and -T is also locale-dependent,
 * without seconds fractions or zone).
 */
class DmesgXidSource implements KernelLogXidSource {
  private lastStamp = -1;
  /** Lines at exactly `lastStamp`: the kernel may log several in one microsecond. */
  private linesAtLastStamp = new Set<string>();

  constructor(private readonly since: number, private readonly timeoutMs: number) {}

  async read(): Promise<XidEvent[]> {
    const output = await runCommand({ command: 'dmesg', args: [], timeoutMs: this.timeoutMs });
    const clock = systemClock();
    const events: XidEvent[] = [];
    for (const line of output.split('\n')) {
      const stamp = /^\[\s*(\d+\.\d+)\]/.exec(line);
      if (stamp === null) continue;
      const seconds = Number(stamp[1]);
      if (seconds < this.lastStamp || (seconds === this.lastStamp && this.linesAtLastStamp.has(line))) continue;
      if (seconds > this.lastStamp) this.linesAtLastStamp = new Set();
      this.lastStamp = seconds;
      this.linesAtLastStamp.add(line);
      const event = parseXidLine(line, clock);
      if (event !== null && event.time >= this.since) events.push(event);
    }
    return events;
  }
}

/**
 * `journalctl -k` resumed from the cursor of the previous call, so no line is read twice or lost
 * between calls; the first call starts at `since`. `short-iso` rather than `short-iso-precise`:
 * CentOS 7's systemd 219 has only the former, and the cursor, not the stamp, orders the lines.
 */
class JournalXidSource implements KernelLogXidSource {
  private cursor: string | null = null;

  constructor(private readonly since: number, private readonly timeoutMs: number) {}

  async read(): Promise<XidEvent[]> {
    const from = this.cursor === null ? [`--since=@${Math.floor(this.since / 1000)}`] : [`--after-cursor=${this.cursor}`];
    const output = await runCommand({
      command: 'journalctl',
      args: ['-k', '-o', 'short-iso', '--no-pager', '--show-cursor', ...from],
      timeoutMs: this.timeoutMs,
    });
    const clock = systemClock();
    const events: XidEvent[] = [];
    for (const line of output.split('\n')) {
      const cursor = /^-- cursor: (.+)$/.exec(line);
      if (cursor !== null) {
        this.cursor = cursor[1]!;
        continue;
      }
      const event = parseXidLine(line, clock);
      if (event !== null && event.time >= this.since) events.push(event);
    }
    return events;
  }
}

/**
 * Follows a log file (e.g. /var/log/kern.log) from where the previous call stopped. The first
 * call starts at the file's end: what is already there is history. A file that shrank was
 * truncated and one with a new inode was rotated: both are read again from the start.
 * A last line without its newline waits for the next call.
 */
/** A log that grew by more than this since the last call is caught up over several calls. */
const MAX_READ_BYTES = 16 * 1024 * 1024;

class FileXidSource implements KernelLogXidSource {
  private offset: number | null = null;
  private inode: number | null = null;

  constructor(private readonly path: string) {}

  async read(): Promise<XidEvent[]> {
    try {
      return await this.readNew();
    } catch (error) {
      if (error instanceof GpumonError) throw error;
      throw new GpumonError('service_unreachable', `Kernel log ${this.path} could not be read: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  private async readNew(): Promise<XidEvent[]> {
    const info = await stat(this.path);
    if (this.offset === null || info.ino !== this.inode || info.size < this.offset) {
      const firstRead = this.offset === null;
      this.inode = info.ino;
      this.offset = firstRead ? info.size : 0;
    }
    if (info.size === this.offset) return [];

    const file = await open(this.path, 'r');
    let chunk: Buffer;
    try {
      const buffer = Buffer.alloc(Math.min(info.size - this.offset, MAX_READ_BYTES));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, this.offset);
      chunk = buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
    const complete = chunk.lastIndexOf(0x0a) + 1;
    this.offset += complete;
    const text = chunk.subarray(0, complete).toString('utf8');

    const clock = systemClock();
    return text
      .split('\n')
      .map((line) => parseXidLine(line, clock))
      .filter((event): event is XidEvent => event !== null);
  }
}
