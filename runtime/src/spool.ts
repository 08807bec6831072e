import { chmodSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { GpumonError } from './errors.js';
import { makeStateDir, readStateFile, STATE_DIR_MODE, writeStateFile, type SetAsideHandler } from './state-file.js';

export interface SpooledMessage {
  key: Buffer;
  value: Buffer;
}

export interface SpoolSegment {
  seq: number;
  messages: SpooledMessage[];
}

export interface SpoolStats {
  segments: number;
  messages: number;
  bytes: number;
  /** Messages dropped, oldest first, because the spool was full. */
  dropped: number;
}

const SUFFIX = '.seg';
const HEADER_BYTES = 8;

/**
 * A bounded, ordered, on-disk queue of Kafka messages: every collected batch is written here
 * before it is sent and removed only once Kafka has acknowledged it, so neither a broker outage
 * nor a restart of the process loses a message within the bound. When the bound is hit the
 * oldest segments go first, and are counted.
 *
 * Segment file: per message, key length and value length (uint32 BE each), then the bytes. Written
 * atomically (state-file.ts), private to the agent's user. A segment that still reads torn or empty
 * (a disk that lied about its flush) is set aside and reported through `onSetAside`, never fatal.
 */
export class Spool {
  private readonly sizes = new Map<number, { bytes: number; messages: number }>();
  private nextSeq: number;
  private bytes = 0;
  dropped = 0;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly onSetAside: SetAsideHandler,
  ) {
    makeStateDir(dir);
    // The spool directory is the agent's alone: tightened also where an older agent made it.
    chmodSync(dir, STATE_DIR_MODE);
    let last = 0;
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.tmp')) {
        unlinkSync(join(dir, name));
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      const seq = Number(name.slice(0, -SUFFIX.length));
      // Its number is taken even when it is set aside, so the next segment never reuses it.
      last = Math.max(last, seq);
      const segment = this.readOrSetAside(seq);
      if (segment === undefined) continue;
      this.sizes.set(seq, { bytes: segment.bytes, messages: segment.messages.length });
      this.bytes += segment.bytes;
    }
    this.nextSeq = last + 1;
  }

  /** Appends one batch as a segment; drops the oldest segments while the spool is over its bound. */
  append(messages: readonly SpooledMessage[]): number {
    if (messages.length === 0) return 0;
    const size = messages.reduce((sum, m) => sum + HEADER_BYTES + m.key.length + m.value.length, 0);
    const buffer = Buffer.allocUnsafe(size);
    let at = 0;
    for (const { key, value } of messages) {
      at = buffer.writeUInt32BE(key.length, at);
      at = buffer.writeUInt32BE(value.length, at);
      at += key.copy(buffer, at);
      at += value.copy(buffer, at);
    }
    const seq = this.nextSeq++;
    writeStateFile(this.path(seq), buffer);
    this.sizes.set(seq, { bytes: size, messages: messages.length });
    this.bytes += size;
    let dropped = 0;
    while (this.bytes > this.maxBytes && this.sizes.size > 1) {
      const oldest = this.oldestSeq()!;
      dropped += this.sizes.get(oldest)!.messages;
      this.remove(oldest);
    }
    this.dropped += dropped;
    return dropped;
  }

  /** The oldest readable segment not yet acknowledged, or undefined when the spool is empty. */
  peek(): SpoolSegment | undefined {
    for (let seq = this.oldestSeq(); seq !== undefined; seq = this.oldestSeq()) {
      const segment = this.readOrSetAside(seq);
      if (segment !== undefined) return { seq, messages: segment.messages };
      this.forget(seq);
    }
    return undefined;
  }

  /** Removes a segment once Kafka has acknowledged all of its messages. */
  acknowledge(seq: number): void {
    this.remove(seq);
  }

  stats(): SpoolStats {
    let messages = 0;
    for (const s of this.sizes.values()) messages += s.messages;
    return { segments: this.sizes.size, messages, bytes: this.bytes, dropped: this.dropped };
  }

  private oldestSeq(): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.sizes.keys()) if (oldest === undefined || seq < oldest) oldest = seq;
    return oldest;
  }

  private remove(seq: number): void {
    if (!this.sizes.has(seq)) return;
    unlinkSync(this.path(seq));
    this.forget(seq);
  }

  private forget(seq: number): void {
    const size = this.sizes.get(seq);
    if (size === undefined) return;
    this.sizes.delete(seq);
    this.bytes -= size.bytes;
  }

  /** A segment's messages; undefined when it is gone, or once one that does not decode has been set aside. */
  private readOrSetAside(seq: number): { messages: SpooledMessage[]; bytes: number } | undefined {
    const path = this.path(seq);
    return readStateFile(path, (buffer) => ({ messages: decodeSegment(buffer, path), bytes: buffer.length }), this.onSetAside);
  }

  private path(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, '0')}${SUFFIX}`);
  }
}

function decodeSegment(buffer: Buffer, path: string): SpooledMessage[] {
  const messages: SpooledMessage[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (at + HEADER_BYTES > buffer.length) throw new GpumonError('decode_failed', `spool segment ${path} is truncated at byte ${at}`);
    const keyLength = buffer.readUInt32BE(at);
    const valueLength = buffer.readUInt32BE(at + 4);
    at += HEADER_BYTES;
    if (at + keyLength + valueLength > buffer.length) throw new GpumonError('decode_failed', `spool segment ${path} is truncated at byte ${at}`);
    messages.push({ key: buffer.subarray(at, at + keyLength), value: buffer.subarray(at + keyLength, at + keyLength + valueLength) });
    at += keyLength + valueLength;
  }
  return messages;
}
