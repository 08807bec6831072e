import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NEXT_STEP_VIEWS, nextSteps } from './next-steps.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the next steps the demo prints when it ends', () => {
  const text = nextSteps('postgres://gpumon:secret@db.example:6543/fleet?sslmode=require', REPO_ROOT);

  it('connect as the analyst to the demo’s host and database, without the owner’s password', () => {
    expect(text).toContain('psql postgres://gpu_reader:gpu_reader@db.example:6543/fleet\n');
    expect(text).not.toContain('secret');
  });

  it('show three example queries of docs/views.md and where the dashboards are', () => {
    for (const view of NEXT_STEP_VIEWS) expect(text).toMatch(new RegExp(`-- ${view}\\n\\s+SELECT [\\s\\S]*?FROM ${view}\\n`));
    expect(text).toContain(`${REPO_ROOT}dashboards`);
  });
});
