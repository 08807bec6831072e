import type { GpuSample, XidEvent } from '@gpumon/schemas/types.generated';

/** Clocks that turn a kernel log line's timestamp into Unix epoch milliseconds. */
export interface LineClock {
  /** When the machine booted (epoch ms): dmesg's `[seconds since boot]` counts from it. */
  bootTimeMs: number;
  /** For lines that carry no timestamp this parser understands (e.g. classic syslog without a year). */
  nowMs: number;
}

/**
 * `NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, name=python, GPU has fallen off the bus.` and the
 * pre-R450 form without the `PCI:` prefix. The message part is free text that varies by code and
 * driver, kept as printed.
 */
const XID = /NVRM: Xid \((?:PCI:)?([0-9a-fA-F]+:[0-9a-fA-F]{2}:[0-9a-fA-F]{2})(?:\.[0-7])?\):\s*(\d+)(?:,\s*(.*))?$/;

/**
 * `dmesg --time-format iso` (2024-05-01T12:34:56,123456+00:00), `journalctl -o short-iso`
 * (2024-05-01T12:34:56+0000) and rsyslog's RFC 3339 stamps (2024-05-01T12:34:56.123456+00:00).
 */
const ISO_STAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})\s/;
/** The kernel's own `[ 12345.678901]`, seconds since boot, as plain `dmesg` prints it. */
const MONOTONIC_STAMP = /\[\s*(\d+\.\d+)\]\s*NVRM:/;

export function parseXidLine(line: string, clock: LineClock): XidEvent | null {
  const xid = XID.exec(line.trimEnd());
  if (xid === null) return null;
  return {
    time: lineTime(line, clock),
    code: Number(xid[2]),
    pci_id: normalizePciId(xid[1]!) ?? xid[1]!.toLowerCase(),
    message: (xid[3] ?? '').trim(),
  };
}

function lineTime(line: string, clock: LineClock): number {
  const iso = ISO_STAMP.exec(line);
  if (iso !== null) {
    const [, date, time, fraction, zone] = iso;
    const millis = (fraction ?? '').padEnd(3, '0').slice(0, 3);
    const offset = zone === 'Z' ? 'Z' : `${zone!.slice(0, 3)}:${zone!.slice(-2)}`;
    const parsed = Date.parse(`${date}T${time}.${millis}${offset}`);
    if (!Number.isNaN(parsed)) return parsed;
  }
  const monotonic = MONOTONIC_STAMP.exec(line);
  if (monotonic !== null) return Math.round(clock.bootTimeMs + Number(monotonic[1]) * 1000);
  return clock.nowMs;
}

/**
 * `00000000:3B:00.0` (nvidia-smi) and `0000:3b:00` (kernel) → `0000:3b:00`: lower case, a domain of
 * at least four hex digits (VMD domains such as 10000 keep theirs), no function number.
 */
export function normalizePciId(id: string): string | null {
  const match = /^([0-9a-fA-F]{1,8}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})(?:\.[0-7])?$/.exec(id.trim());
  if (match === null) return null;
  const domain = Number.parseInt(match[1]!, 16).toString(16).padStart(4, '0');
  return `${domain}:${match[2]!.toLowerCase()}:${match[3]!.toLowerCase()}`;
}

/**
 * Hands each Xid event to the sample of the GPU at its PCI address (appended to its xid_events).
 * Events for an address no sample has, such as a GPU that fell off the bus and is no longer
 * listed, come back as `unmatched` for the caller to report.
 */
export function assignXidEvents(samples: GpuSample[], events: XidEvent[]): { samples: GpuSample[]; unmatched: XidEvent[] } {
  const byPci = new Map<string, XidEvent[]>();
  const unmatched: XidEvent[] = [];
  const known = new Set(samples.map((sample) => sample.pci_bus_id && normalizePciId(sample.pci_bus_id)));
  for (const event of events) {
    const pci = normalizePciId(event.pci_id) ?? event.pci_id;
    if (!known.has(pci)) {
      unmatched.push(event);
      continue;
    }
    byPci.set(pci, [...(byPci.get(pci) ?? []), event]);
  }
  return {
    samples: samples.map((sample) => {
      const pci = sample.pci_bus_id === null ? null : normalizePciId(sample.pci_bus_id);
      const mine = pci === null ? undefined : byPci.get(pci);
      return mine === undefined ? sample : { ...sample, xid_events: [...sample.xid_events, ...mine] };
    }),
    unmatched,
  };
}
