// Bundles the standalone agent (src/agent.ts and everything it imports, from the workspaces' sources)
// into one CommonJS file, the form a Node single executable runs. Usage: node bundle.mjs <out-dir>
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const out = process.argv[2];
if (!out) throw new Error('usage: node bundle.mjs <out-dir>');

/** Must match EMBEDDED_ROOT in src/embedded-files.ts. */
const EMBEDDED_ROOT = '/gpumon-embedded/';
/** The files the agent reads beside its code, by path from the repository root. */
const EMBEDDED = [
  ...readdirSync(`${REPO}schemas/avro`).filter((name) => name.endsWith('.avsc')).map((name) => `schemas/avro/${name}`),
  'producers/nvidia-smi/src/attribution/podresources.proto',
];
/** Code the agent never runs: its presence means an eager import crept into the agent's module graph. */
const NOT_FOR_THE_AGENT = /(^|\/)node_modules\/(onnxruntime-node|onnxruntime-common|pg|pg-[a-z]+)\/|^(processors|sinks|migrations|models)\//;

/** Each workspace source's import.meta.url becomes its path below EMBEDDED_ROOT, where its neighbour files are served from memory. */
const embeddedModuleUrls = {
  name: 'embedded-module-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const path = relative(REPO, args.path);
      if (path.startsWith('..') || path.includes('node_modules/')) return undefined;
      const url = JSON.stringify(`file://${EMBEDDED_ROOT}${path}`);
      return { contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', url), loader: 'ts' };
    });
  },
};

const version = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')).version;
const result = await build({
  entryPoints: [`${REPO}packaging/src/agent.ts`],
  outfile: `${out}/gpumon-agent.cjs`,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  // The workspaces' TypeScript sources, so the bundle needs no build of them first.
  conditions: ['source'],
  minify: true,
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
  define: {
    // runtime/src/build-info.ts reads the root package.json beside the sources; the bundle has it compiled in.
    GPUMON_BUILD_VERSION: JSON.stringify(version),
    GPUMON_EMBEDDED_FILES: JSON.stringify(Object.fromEntries(EMBEDDED.map((path) => [path, readFileSync(`${REPO}${path}`, 'utf8')]))),
  },
  plugins: [embeddedModuleUrls],
});

const inputs = Object.keys(result.metafile.inputs).map((path) => relative(REPO, path));
const stray = inputs.filter((path) => NOT_FOR_THE_AGENT.test(path));
if (stray.length > 0) throw new Error(`the agent bundle must not contain processor, sink, model or pg code, yet it has:\n  ${stray.join('\n  ')}`);
writeFileSync(`${out}/gpumon-agent.meta.json`, JSON.stringify(result.metafile));
console.log(`bundle: ${out}/gpumon-agent.cjs, ${inputs.length} modules, version ${version}`);
