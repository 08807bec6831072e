import { setImmediate as tick } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { isKafkajsTimerWarning } from './kafkajs-timer-warning.js';

const seen: string[] = [];
process.on('warning', (warning: Error) => void seen.push(warning.name));

/** Named as kafkajs's request queue names the method that sets a negative timer. */
function scheduleCheckPendingRequests(): void {
  clearTimeout(setTimeout(() => undefined, -5));
}

// Node warns of a negative timeout once a process, so only the first such timer can be watched here.
it("drops Node's negative-timeout warning raised by kafkajs's request queue, and keeps the others", async () => {
  scheduleCheckPendingRequests();
  process.emitWarning('something else', 'DeprecationWarning');
  await tick();
  expect(seen).toEqual(['DeprecationWarning']);
});

it('knows the warning by its type and the kafkajs call in its stack', () => {
  const kafkajs = 'Error\n    at new Timeout (node:internal/timers:233:17)\n    at setTimeout (node:timers:125:19)\n    at RequestQueue.scheduleCheckPendingRequests (/app/node_modules/kafkajs/src/network/requestQueue/index.js:317:37)';
  const elsewhere = 'Error\n    at new Timeout (node:internal/timers:233:17)\n    at setTimeout (node:timers:125:19)\n    at retry (/app/runtime/dist/retry.js:40:5)';
  expect(isKafkajsTimerWarning('TimeoutNegativeWarning', kafkajs)).toBe(true);
  expect(isKafkajsTimerWarning('TimeoutNegativeWarning', elsewhere)).toBe(false);
  expect(isKafkajsTimerWarning('DeprecationWarning', kafkajs)).toBe(false);
});
