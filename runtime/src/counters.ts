import { Counter, type Registry } from 'prom-client';

/**
 * Every component counts what it received, sent on, could not process (dead-lettered) and chose
 * to drop, as Prometheus counters `gpumon_records_<what>_total{component}` in its registry; dead
 * letters also by reason, `gpumon_dead_letters_total{component,reason}`.
 */
export class Counters {
  private readonly counters: Record<'received' | 'sent' | 'errored' | 'dropped', Counter>;
  private readonly values = { received: 0, sent: 0, errored: 0, dropped: 0 };
  private readonly deadLetters: Counter;

  constructor(registry: Registry, readonly component: string) {
    // Components that share a process (co-located processors) share its registry: one metric, a label each.
    const shared = (name: string, create: () => Counter): Counter => (registry.getSingleMetric(name) as Counter | undefined) ?? create();
    const counter = (what: keyof Counters['values'], help: string): Counter => shared(`gpumon_records_${what}_total`, () =>
      new Counter({ name: `gpumon_records_${what}_total`, help, labelNames: ['component'], registers: [registry] }));
    this.counters = {
      received: counter('received', 'Records read from Kafka or collected.'),
      sent: counter('sent', 'Records written on: to Kafka, or rows to the database.'),
      errored: counter('errored', 'Records that could not be processed and went to the dead-letter topic.'),
      dropped: counter('dropped', 'Records deliberately not passed on (duplicates already stored, spool overflow).'),
    };
    this.deadLetters = shared('gpumon_dead_letters_total', () => new Counter({
      name: 'gpumon_dead_letters_total', help: 'Records sent to the dead-letter topic, by the error code their dead letter carries (decode_failed, validation_failed, ...).',
      labelNames: ['component', 'reason'], registers: [registry],
    }));
  }

  /** One record given up on: counted as errored, and by its reason. */
  deadLettered(reason: string): void {
    this.add('errored');
    this.deadLetters.inc({ component: this.component, reason });
  }

  add(what: keyof Counters['values'], n = 1): void {
    this.values[what] += n;
    this.counters[what].inc({ component: this.component }, n);
  }

  snapshot(): { received: number; sent: number; errored: number; dropped: number } {
    return { ...this.values };
  }
}
