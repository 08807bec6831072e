// Adds up the JSON reports of every workspace's vitest run into one closing line.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const { workspaces } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const dirs = workspaces.flatMap((pattern) =>
  pattern.endsWith('/*')
    ? readdirSync(new URL(pattern.slice(0, -1), root), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `${pattern.slice(0, -1)}${d.name}`)
    : [pattern],
);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of dirs) {
  const report = new URL(`${dir}/.vitest/report.json`, root);
  if (!existsSync(report)) continue;
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
