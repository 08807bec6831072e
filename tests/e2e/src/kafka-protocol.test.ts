import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { loadConfig } from '@gpumon/runtime/config';
import { kafkaOptions } from '@gpumon/runtime/kafka';

/**
 * Kafka 4 dropped the oldest version of many requests (KIP-896). kafkajs 2.2.4 sends the highest
 * version both sides know, capped at its own newest, and never checks the broker's oldest: a request
 * whose newest kafkajs version is below the broker's oldest would be refused at run time. This asks
 * the broker what it serves (ApiVersions v0, which every broker answers) and compares every request
 * kafkajs implements, so a broker upgrade that breaks one fails here first, naming the request.
 */
const require = createRequire(import.meta.url);
// kafkajs has no `exports` map; its request table is the one the client itself negotiates with.
const { requests } = require('kafkajs/src/protocol/requests') as { requests: Record<string, { versions: string[] }> };
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>;

type Served = Map<number, { min: number; max: number }>;

/** The broker's ApiVersions v0 answer: api key → [min, max] version. */
async function servedVersions(host: string, port: number): Promise<Served> {
  const clientId = Buffer.from('gpumon-e2e');
  const request = Buffer.alloc(4 + 10 + clientId.length);
  request.writeInt32BE(request.length - 4, 0);
  request.writeInt16BE(apiKeys.ApiVersions!, 4);
  request.writeInt16BE(0, 6);
  request.writeInt32BE(1, 8);
  request.writeInt16BE(clientId.length, 12);
  clientId.copy(request, 14);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const socket = connect(port, host, () => socket.write(request));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.end();
        resolve(received);
      }
    });
    socket.on('error', reject);
  });
  // size(4) correlation_id(4) error_code(2) count(4), then count × api_key(2) min(2) max(2)
  expect(reply.readInt16BE(8)).toBe(0);
  const served: Served = new Map();
  for (let i = 0, at = 14; i < reply.readInt32BE(10); i++, at += 6) {
    served.set(reply.readInt16BE(at), { min: reply.readInt16BE(at + 2), max: reply.readInt16BE(at + 4) });
  }
  return served;
}

it('the broker serves a version of every request kafkajs implements', async () => {
  const [broker] = loadConfig(kafkaOptions, {}).kafkaBrokers;
  const [host, port] = broker!.split(':');
  const served = await servedVersions(host!, Number(port));
  const refused: string[] = [];
  let compared = 0;
  for (const [name, { versions }] of Object.entries(requests)) {
    if (versions.length === 0) continue; // not implemented by kafkajs
    compared++;
    const newest = Math.max(...versions.map(Number));
    const range = served.get(apiKeys[name]!);
    if (range === undefined) refused.push(`${name}: not served`);
    else if (newest < range.min) refused.push(`${name}: kafkajs speaks up to v${newest}, the broker from v${range.min}`);
  }
  expect(compared).toBeGreaterThanOrEqual(30);
  expect(refused).toEqual([]);
});
