import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { startCli } from './cli-process.js';

it('gpumon --version names the release of the root package.json and the Node it runs on', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  const cli = startCli(['--version'], {});
  expect(await cli.exited).toBe(0);
  expect(cli.output().trim()).toBe(`gpumon ${version} (Node ${process.versions.node}, ${process.platform}-${process.arch})`);
  // The supported runtime: npm test runs under scripts/node.sh, which brings Node 24 where the system's is older.
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24);
});
