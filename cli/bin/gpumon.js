#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (or `npm run demo` / `npm test`, which build first) makes it.
import { existsSync } from 'node:fs';

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < REQUIRED_MAJOR) {
  console.error(
    `gpumon: Node ${REQUIRED_MAJOR} or newer is needed, this is Node ${process.versions.node}. ` +
      'From the repository: `bash scripts/with-node.sh npx gpumon …` (fetches Node 24 once), or install Node 24 (`nvm install` reads .nvmrc).',
  );
  process.exit(1);
}

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('gpumon: not built yet; run `npm run build` in the repository root first');
  process.exit(1);
}
await import(main.href);
