import { childTablesOf, type ChildTable } from './child-tables.js';
import { classify } from './database-errors.js';
import { deviceInventory } from './devices.js';
import { copyOnce, type Alongside } from './table-writer.js';
import type { SinkStream } from './tables.js';
import { workloadInventory } from './workloads.js';

/** The step with what the database refuses in it named by its table, not by the stream's. */
function naming(table: string, step: Alongside): Alongside {
  return async (client, records) => {
    try {
      return await step(client, records);
    } catch (error) {
      throw classify(error, table);
    }
  };
}

/** A child table's rows of a batch, each once. */
function childRows(child: ChildTable): Alongside {
  return naming(child.name, async (client, records) => {
    const rows = records.flatMap((record) => child.rowsOf(record));
    // A batch with no child rows (attribution off) costs no round trips; the health check's empty batch still COPYs, to prove the table writable.
    if (rows.length > 0 || records.length === 0) await copyOnce(client, child, rows);
    return undefined;
  });
}

/**
 * What a batch of a stream's records also writes, in its transaction and in this order: the
 * dimensions first (gpu_devices, then gpu_workloads, each in key order, so concurrent sinks lock
 * rows in one order), then the child tables. Each call has its own memory of the dimension rows
 * written (WrittenRows): one per TableWriter, so sinks of different databases in one process share none.
 */
export function alongsideOf(stream: SinkStream): Alongside[] {
  const dimensions = stream === 'samples' ? [naming('gpu_devices', deviceInventory()), naming('gpu_workloads', workloadInventory())] : [];
  return [...dimensions, ...childTablesOf(stream).map(childRows)];
}
