import { fileURLToPath } from 'node:url';

/** The repository root, from src/ and from dist/ alike (`gpumon stack` and `gpumon demo` run its scripts and keep their logs there). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
