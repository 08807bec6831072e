import { parentPort, workerData } from 'node:worker_threads';
import type { DatasetSpec } from './labelled-rows.js';
import { writePart } from './part.js';

/** A dataset worker thread: writes its range of GPUs and reports the part's summary. */
const { spec, from, to, path } = workerData as { spec: DatasetSpec; from: number; to: number; path: string };
parentPort?.postMessage(await writePart(spec, from, to, path));
