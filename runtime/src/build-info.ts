import { readFileSync } from 'node:fs';

/** Set by a bundler (`define`) when the code is bundled away from the repository's package.json. */
declare const GPUMON_BUILD_VERSION: string | undefined;

/** The release: the version in the repository root's package.json, one level above every workspace. */
export const GPUMON_VERSION: string = typeof GPUMON_BUILD_VERSION === 'string'
  ? GPUMON_BUILD_VERSION
  : (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** One line naming the release and the runtime, as `--version` prints it. */
export function versionLine(): string {
  return `gpumon ${GPUMON_VERSION} (Node ${process.versions.node}, ${process.platform}-${process.arch})`;
}
