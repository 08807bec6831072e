// First, as the modules after it read their Avro schemas while they load.
import './embedded-files.js';
import { standaloneAgent } from '@gpumon/cli/commands/agent';

/** Set by bundle.mjs from the root package.json. */
declare const GPUMON_VERSION: string;

// No top-level await: a single executable runs CommonJS.
void standaloneAgent(GPUMON_VERSION).parseAsync();
