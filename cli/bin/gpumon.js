#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (or `npm run demo` / `npm test`, which build first) makes it.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('gpumon: not built yet; run `npm run build` in the repository root first');
  process.exit(1);
}
await import(main.href);
