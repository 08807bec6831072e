import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parse } from './config.js';
import { GpumonError } from './errors.js';
import { databaseOptions } from './database.js';
import { kafkaOptions } from './kafka.js';
import { registryOptions } from './registry.js';

describe('loadConfig', () => {
  it('takes flags over the environment over defaults', () => {
    const config = loadConfig(kafkaOptions, { topicPartitions: '12' }, { KAFKA_BROKERS: 'a:1,b:2', GPUMON_TOPIC_PARTITIONS: '3' });
    expect(config.kafkaBrokers).toEqual(['a:1', 'b:2']);
    expect(config.topicPartitions).toBe(12);
    expect(config.kafkaSaslMechanism).toBe('none');
    expect(config.topicPrefix).toBeUndefined();
  });

  it('names every bad setting with its variable, flag, value and an example, in one error', () => {
    let error: unknown;
    try {
      loadConfig(kafkaOptions, {}, { KAFKA_BROKERS: 'nohost', GPUMON_TOPIC_PARTITIONS: '0', KAFKA_SASL_PASSWORD: 'x', KAFKA_SSL: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GpumonError);
    const message = (error as GpumonError).message;
    expect((error as GpumonError).code).toBe('config_invalid');
    expect(message).toContain('KAFKA_BROKERS (--kafka-brokers): each broker must be host:port; got "nohost", e.g. kafka-1:9092,kafka-2:9092');
    expect(message).toContain('GPUMON_TOPIC_PARTITIONS (--topic-partitions): must be at least 1; got "0"');
    expect(message).toContain('KAFKA_SSL (--kafka-ssl): must be true or false; got "maybe"');
  });

  it('never prints a secret it rejects', () => {
    const spec = { password: { env: 'P', flag: 'p', example: 'x', description: 'd', secret: true, schema: parse.int(1) } };
    expect(() => loadConfig(spec, {}, { P: 'hunter2' })).toThrow(/got \(secret\)/);
  });

  it('parses a list of URLs, comma-separated as a repeated flag arrives, and refuses any that is not one', () => {
    const spec = { to: { env: 'TO', flag: 'to', example: 'http://a', description: 'd', schema: parse.urls(['http', 'https']) } };
    expect(loadConfig(spec, { to: 'http://a:9093, https://u:p@b/x' }).to).toEqual(['http://a:9093', 'https://u:p@b/x']);
    expect(() => loadConfig(spec, { to: 'http://a,ftp://b' })).toThrow(/each must be a http or https URL/);
    expect(() => loadConfig(spec, { to: ' , ' })).toThrow(/at least one URL/);
  });

  it('parses some of a list of names, comma-separated, each once, and names the one it does not know', () => {
    const spec = { p: { env: 'P', flag: 'p', example: 'a,b', description: 'd', schema: parse.someOf(['a', 'b', 'c']) } };
    expect(loadConfig(spec, { p: 'c, a,c' }).p).toEqual(['c', 'a']);
    expect(() => loadConfig(spec, { p: 'a,d' })).toThrow(/each must be one of a, b, c; got "a,d"/);
    expect(() => loadConfig(spec, { p: ' , ' })).toThrow(/at least one/);
  });

  it('parses durations into milliseconds', () => {
    const spec = { d: { env: 'D', flag: 'd', example: '1s', description: 'd', schema: parse.durationMs() } };
    expect(loadConfig(spec, {}, { D: '500ms' }).d).toBe(500);
    expect(loadConfig(spec, {}, { D: '1.5s' }).d).toBe(1500);
    expect(loadConfig(spec, {}, { D: '2m' }).d).toBe(120_000);
    expect(() => loadConfig(spec, {}, { D: '10' })).toThrow(/must be a duration/);
  });

  describe('a secret from the file its _FILE variable names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpumon-config-'));
    const file = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };

    it('reads every secret option from its file, without the trailing line break', () => {
      const spec = { ...kafkaOptions, ...registryOptions, ...databaseOptions };
      const env = {
        KAFKA_SASL_PASSWORD_FILE: file('kafka', 'k-pass\n'),
        SCHEMA_REGISTRY_PASSWORD_FILE: file('registry', 'r-pass\r\n'),
        DATABASE_URL_FILE: file('db', 'postgres://gpu_sink:s3cret@db:5432/gpumon'),
      };
      const config = loadConfig(spec, {}, env);
      expect(config.kafkaSaslPassword).toBe('k-pass');
      expect(config.schemaRegistryPassword).toBe('r-pass');
      expect(config.databaseUrl).toBe('postgres://gpu_sink:s3cret@db:5432/gpumon');
      const secrets = Object.values(spec).filter((option) => 'secret' in option && option.secret).map((option) => option.env);
      expect(secrets.map((name) => `${name}_FILE`).sort()).toEqual(Object.keys(env).sort());
    });

    it('keeps a flag over the file, and the file over the default', () => {
      const env = { DATABASE_URL_FILE: file('db2', 'postgres://a:b@file:5432/x\n') };
      expect(loadConfig(databaseOptions, {}, env).databaseUrl).toBe('postgres://a:b@file:5432/x');
      expect(loadConfig(databaseOptions, { databaseUrl: 'postgres://a:b@flag:5432/x' }, env).databaseUrl).toBe('postgres://a:b@flag:5432/x');
    });

    it('refuses a variable and its file both set, and names a file it cannot read', () => {
      const both = { KAFKA_SASL_PASSWORD: 'x', KAFKA_SASL_PASSWORD_FILE: file('k2', 'y') };
      expect(() => loadConfig(kafkaOptions, {}, both)).toThrow('KAFKA_SASL_PASSWORD_FILE: both KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are set; keep one');
      const missing = join(dir, 'absent');
      expect(() => loadConfig(kafkaOptions, {}, { KAFKA_SASL_PASSWORD_FILE: missing })).toThrow(`KAFKA_SASL_PASSWORD_FILE: cannot read ${missing}: ENOENT`);
    });

    it('ignores _FILE for a setting that is not secret', () => {
      const env = { KAFKA_BROKERS_FILE: file('brokers', 'evil:1') };
      expect(loadConfig(kafkaOptions, {}, env).kafkaBrokers).toEqual(['localhost:9092']);
    });
  });
});
