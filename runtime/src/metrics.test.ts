import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { GPUMON_VERSION, versionLine } from './build-info.js';
import { createLogger } from './log.js';
import { Registry, startMetricsServer } from './metrics.js';

describe('startMetricsServer', () => {
  it('serves process metrics and gpumon_build_info with the release and the Node version', async () => {
    // Port 0 turns the endpoint off, so a free port comes from a listener opened and closed first.
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
    await new Promise((resolve) => probe.close(resolve));
    const server = await startMetricsServer({ port, address: '127.0.0.1' }, new Registry(), () => Promise.resolve(), createLogger('metrics-test'));
    try {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(body).toContain(`gpumon_build_info{version="${GPUMON_VERSION}",node_version="${process.versions.node}"} 1`);
      expect(body).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(body).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    } finally {
      server?.close();
    }
  });

  it('answers /livez while /readyz (and /healthz, its older name) reports what is not ready', async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port)));
    await new Promise((resolve) => probe.close(resolve));
    const server = await startMetricsServer({ port, address: '127.0.0.1' }, new Registry(), () => Promise.reject(new Error('the database does not answer')), createLogger('metrics-test'));
    try {
      expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
      for (const path of ['/readyz', '/healthz']) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`);
        expect(response.status).toBe(503);
        expect(await response.text()).toBe('the database does not answer\n');
      }
    } finally {
      server?.close();
    }
  });
});

describe('versionLine', () => {
  it("names the repository's release", () => {
    const root = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(GPUMON_VERSION).toBe(root.version);
    expect(versionLine()).toBe(`gpumon ${root.version} (Node ${process.versions.node}, ${process.platform}-${process.arch})`);
  });
});
