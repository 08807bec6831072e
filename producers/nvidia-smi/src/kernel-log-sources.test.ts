import { appendFileSync, chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GpumonError } from '@gpumon/runtime/errors';
import { createXidSource } from './kernel-log-sources.js';

const LINE_79 = '2026-01-01T10:00:00+0000 node kernel: NVRM: Xid (PCI:0000:3b:00): 79, pid=1, name=python, GPU has fallen off the bus.\n';
const LINE_48 = '2026-01-01T10:00:01+0000 node kernel: NVRM: Xid (PCI:0000:3b:00): 48, An uncorrectable double bit error\n';
const LINE_OTHER = '2026-01-01T10:00:02+0000 node kernel: usb 1-1: new high-speed USB device\n';

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gpumon-xid-'));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(scratch, { recursive: true, force: true });
});

const codes = (events: Array<{ code: number }>): number[] => events.map((event) => event.code);

/** Puts a fake command first on PATH: it prints $FAKE_OUTPUT and appends its arguments to $FAKE_ARGS. */
function fakeCommand(name: string): { output: string; args: string } {
  const output = join(scratch, `${name}.out`);
  const args = join(scratch, `${name}.args`);
  const script = join(scratch, name);
  writeFileSync(script, `#!/usr/bin/env bash\necho "$*" >> "${args}"\ncat "${output}"\n`);
  chmodSync(script, 0o755);
  writeFileSync(output, '');
  vi.stubEnv('PATH', `${scratch}:${process.env.PATH ?? ''}`);
  return { output, args };
}

describe('createXidSource', () => {
  it.each(['', 'syslog', 'file:'])('refuses %j', (spec) => {
    expect(() => createXidSource(spec)).toThrow(GpumonError);
    expect(() => createXidSource(spec)).toThrow(/none of dmesg, journal, file:<path>/);
  });
});

describe('file source', () => {
  it('returns lines appended since the previous read, and survives truncation and rotation', async () => {
    const log = join(scratch, 'kern.log');
    writeFileSync(log, LINE_79);
    const source = createXidSource(`file:${log}`);

    expect(await source.read()).toEqual([]);

    appendFileSync(log, LINE_OTHER + LINE_48);
    expect(await source.read()).toEqual([
      { time: Date.parse('2026-01-01T10:00:01Z'), code: 48, pci_id: '0000:3b:00', message: 'An uncorrectable double bit error' },
    ]);
    expect(await source.read()).toEqual([]);

    // A line still being written waits for its newline.
    appendFileSync(log, LINE_79.slice(0, 40));
    expect(await source.read()).toEqual([]);
    appendFileSync(log, LINE_79.slice(40));
    expect(codes(await source.read())).toEqual([79]);

    writeFileSync(log, LINE_48);
    expect(codes(await source.read())).toEqual([48]);

    renameSync(log, `${log}.1`);
    writeFileSync(log, LINE_79 + LINE_79 + LINE_48);
    expect(codes(await source.read())).toEqual([79, 79, 48]);
  });

  it('reports a missing file as an error', async () => {
    const source = createXidSource(`file:${join(scratch, 'missing.log')}`);
    await expect(source.read()).rejects.toThrow(/missing\.log could not be read/);
  });
});

describe('dmesg source', () => {
  it('returns only lines newer than the last one seen, from `since` on', async () => {
    const { output, args } = fakeCommand('dmesg');
    const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const earlier = (uptimeS - 120).toFixed(6);
    const recent = (uptimeS - 30).toFixed(6);
    writeFileSync(output, `[${earlier}] NVRM: Xid (PCI:0000:3b:00): 13, pid=1, name=a, old news\n`);
    const source = createXidSource('dmesg', { since: Date.now() - 60_000 });

    expect(await source.read()).toEqual([]);

    appendFileSync(output, `[${recent}] NVRM: Xid (PCI:0000:3b:00): 31, pid=2, name=b, MMU Fault\n`);
    appendFileSync(output, `[${recent}] NVRM: Xid (PCI:0000:3b:00): 43, pid=2, Ch 00000008\n`);
    const events = await source.read();
    expect(codes(events)).toEqual([31, 43]);
    expect(Math.abs(events[0]!.time - (Date.now() - 30_000))).toBeLessThan(2000);

    expect(await source.read()).toEqual([]);
    expect(readFileSync(args, 'utf8')).toBe('\n\n\n');
  });
});

describe('journal source', () => {
  it('starts at `since` and then resumes from the cursor', async () => {
    const { output, args } = fakeCommand('journalctl');
    writeFileSync(output, `${LINE_79}${LINE_OTHER}-- cursor: s=abc;i=1\n`);
    const source = createXidSource('journal', { since: Date.parse('2026-01-01T09:00:00Z') });

    expect(codes(await source.read())).toEqual([79]);
    writeFileSync(output, '-- No entries --\n');
    expect(await source.read()).toEqual([]);
    writeFileSync(output, `${LINE_48}-- cursor: s=abc;i=2\n`);
    expect(codes(await source.read())).toEqual([48]);

    expect(readFileSync(args, 'utf8').trim().split('\n')).toEqual([
      '-k -o short-iso --no-pager --show-cursor --since=@1767258000',
      '-k -o short-iso --no-pager --show-cursor --after-cursor=s=abc;i=1',
      '-k -o short-iso --no-pager --show-cursor --after-cursor=s=abc;i=1',
    ]);
  });

  it('reports a journalctl that cannot run as an error', async () => {
    vi.stubEnv('PATH', scratch);
    await expect(createXidSource('journal').read()).rejects.toThrow(/journalctl not found/);
  });
});
