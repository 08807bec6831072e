/** Every component counts what it received, sent on, could not process, and chose to drop. */
export class Counters {
  received = 0;
  sent = 0;
  errored = 0;
  dropped = 0;

  snapshot(): { received: number; sent: number; errored: number; dropped: number } {
    return { received: this.received, sent: this.sent, errored: this.errored, dropped: this.dropped };
  }
}
