import type { Command } from 'commander';
import { migrate } from '@gpumon/migrations/migrate';
import { databaseOptions } from '@gpumon/runtime/database';
import { createLogger } from '@gpumon/runtime/log';
import { action } from '../lifecycle.js';
import { settingsOf, withOptions } from '../options.js';

export function define(command: Command): void {
  withOptions(command, databaseOptions).action(action('migrate', async (command) => {
    const applied = await migrate(settingsOf(command, databaseOptions), createLogger('migrate'));
    console.log(applied.length === 0 ? 'database is up to date' : `applied ${applied.map((m) => m.name).join(', ')}`);
  }));
}
