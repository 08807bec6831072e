import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { REPO_ROOT } from '../repo-root.js';

export function define(command: Command): void {
  command
    .argument('<action>', 'up | down | status | logs | reset')
    .argument('[service]', 'for logs: postgres, kafka or registry')
    .action((stackAction: string, service: string | undefined) => {
      const result = spawnSync('bash', [`${REPO_ROOT}infra/stack/stack.sh`, stackAction, ...(service ? [service] : [])], { stdio: 'inherit' });
      process.exitCode = result.status ?? 1;
    });
}
