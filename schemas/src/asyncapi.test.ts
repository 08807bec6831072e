import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderAsyncApi } from './asyncapi.js';
import { DLQ_HEADERS } from './dlq-headers.js';
import { STREAMS, TOPICS } from './topics.js';

describe('the topic contract (asyncapi.json)', () => {
  const committed = readFileSync(new URL('../asyncapi.json', import.meta.url), 'utf8');

  it('is what topics.ts and the .avsc files give (npm run generate -w @gpumon/schemas)', () => {
    expect(committed).toBe(renderAsyncApi());
  });

  it('has a channel per topic with its Avro schema, a string key and, on the DLQ, its headers', () => {
    interface Message { payload: { schemaFormat: string; schema: { type: string } }; bindings: { kafka: { key: { type: string } } }; headers?: { properties: object } }
    const document = JSON.parse(committed) as { asyncapi: string; channels: Record<string, { address: string }>; components: { messages: Record<string, Message> } };
    expect(document.asyncapi).toBe('3.0.0');
    expect(Object.values(document.channels).map((c) => c.address)).toEqual(STREAMS.map((s) => TOPICS[s]));
    for (const message of Object.values(document.components.messages)) {
      expect(message.payload.schemaFormat).toMatch(/^application\/vnd\.apache\.avro\+json/);
      expect(message.payload.schema.type).toBe('record');
      expect(message.bindings.kafka.key.type).toBe('string');
    }
    expect(Object.keys(document.components.messages.DeadLetter!.headers!.properties)).toEqual(Object.keys(DLQ_HEADERS));
  });
});
