import { writeFileSync } from 'node:fs';
import { runDecodeBench } from './decode.js';
import { runDetectionBench } from './detection.js';
import { runE2eBench } from './e2e.js';
import { runInferenceBench } from './inference.js';
import { describeMachine } from './machine.js';
import { runProcessorsBench } from './processors.js';
import { runProducersBench } from './producers.js';
import { runSinkBench } from './sink.js';

/** Each suite prints its own table and returns its figures for --json. */
const SUITES: Record<string, () => Promise<Record<string, unknown>>> = {
  producers: runProducersBench,
  decode: runDecodeBench,
  processors: runProcessorsBench,
  detection: runDetectionBench,
  inference: runInferenceBench,
  sink: runSinkBench,
  e2e: runE2eBench,
};

function usage(): never {
  console.error(`usage: npm run bench -- <suite> [--json FILE]   (suites: ${Object.keys(SUITES).join(', ')})`);
  process.exit(2);
}

const [suite, ...rest] = process.argv.slice(2);
const run = suite === undefined ? undefined : SUITES[suite];
if (run === undefined) usage();
const jsonAt = rest.indexOf('--json');
const jsonFile = jsonAt === -1 ? undefined : rest[jsonAt + 1];
if (jsonAt !== -1 && jsonFile === undefined) usage();

const machine = describeMachine();
const figures = await run();
if (jsonFile !== undefined) {
  writeFileSync(jsonFile, `${JSON.stringify({ suite, date: new Date().toISOString(), machine, ...figures }, null, 2)}\n`);
  console.log(`wrote ${jsonFile}`);
}
