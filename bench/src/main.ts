import { writeFileSync } from 'node:fs';
import { runDecodeBench } from './decode.js';
import { runDetectionBench } from './detection.js';
import { runE2eBench } from './e2e.js';
import { runInferenceBench } from './inference.js';
import { runKeysBench } from './keys.js';
import { describeMachine } from './machine.js';
import { runProcessorsBench } from './processors.js';
import { runProducersBench } from './producers.js';
import { runSinkBench } from './sink.js';
import { runStorageBench } from './storage.js';

/** Each suite prints its own table and returns its figures for --json; it is given the arguments after its name. */
const SUITES: Record<string, (args: string[]) => Promise<Record<string, unknown>>> = {
  producers: runProducersBench,
  decode: runDecodeBench,
  processors: runProcessorsBench,
  detection: runDetectionBench,
  inference: runInferenceBench,
  sink: runSinkBench,
  e2e: runE2eBench,
  storage: runStorageBench,
  keys: runKeysBench,
};

function usage(): never {
  console.error(`usage: npm run bench -- <suite> [--json FILE] [suite options]   (suites: ${Object.keys(SUITES).join(', ')})`);
  process.exit(2);
}

const [suite, ...rest] = process.argv.slice(2);
const run = suite === undefined ? undefined : SUITES[suite];
if (run === undefined) usage();
const jsonAt = rest.indexOf('--json');
const jsonFile = jsonAt === -1 ? undefined : rest[jsonAt + 1];
if (jsonAt !== -1 && jsonFile === undefined) usage();

const machine = describeMachine();
const figures = await run(rest);
if (jsonFile !== undefined) {
  writeFileSync(jsonFile, `${JSON.stringify({ suite, date: new Date().toISOString(), machine, ...figures }, null, 2)}\n`);
  console.log(`wrote ${jsonFile}`);
}
