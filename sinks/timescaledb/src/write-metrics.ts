import { Counter, Histogram, type Registry } from 'prom-client';

/** Seconds one write (a transaction of up to --batch-rows rows) may take, from a few rows to a COPY near its statement timeout. */
const WRITE_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * What the sink writes, per table: `gpumon_sink_rows_total{table}` (rows inserted, a replay's
 * duplicates not counted), `gpumon_sink_bytes_total{table}` (the Avro bytes of the records those
 * writes took, duplicates included) and `gpumon_sink_write_seconds{table}` (each write that
 * succeeded, the retries of an outage not counted).
 */
export class WriteMetrics {
  private readonly rows: Counter;
  private readonly bytes: Counter;
  private readonly seconds: Histogram;

  constructor(registry: Registry) {
    this.rows = new Counter({ name: 'gpumon_sink_rows_total', help: 'Rows the sink inserted, by table.', labelNames: ['table'], registers: [registry] });
    this.bytes = new Counter({ name: 'gpumon_sink_bytes_total', help: 'Avro bytes of the records the sink wrote, by table.', labelNames: ['table'], registers: [registry] });
    this.seconds = new Histogram({
      name: 'gpumon_sink_write_seconds', help: 'Seconds of each successful database write (one transaction), by table.',
      labelNames: ['table'], buckets: WRITE_SECONDS_BUCKETS, registers: [registry],
    });
  }

  /** Times `write` and, once it succeeds, counts what it wrote. */
  async timed<R extends { inserted: number; bytes: number }>(table: string, write: () => Promise<R>): Promise<R> {
    const end = this.seconds.startTimer({ table });
    const result = await write();
    end();
    this.rows.inc({ table }, result.inserted);
    this.bytes.inc({ table }, result.bytes);
    return result;
  }
}
