// First, as the modules after it read their Avro schemas while they load.
import './embedded-files.js';
import { standaloneAgent } from '@gpumon/cli/commands/agent';
import { versionLine } from '@gpumon/runtime/build-info';

// No top-level await: a single executable runs CommonJS.
void standaloneAgent(versionLine()).parseAsync();
