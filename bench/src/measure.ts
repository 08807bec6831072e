/** CPU time (user + system) of `work` over at least `minMs` of repetitions, per repetition, in µs. */
export function cpuMicrosPerRun(work: () => void, minMs = 1000): { micros: number; runs: number } {
  for (let i = 0; i < 20; i++) work();
  const start = process.cpuUsage();
  const wallStart = performance.now();
  let runs = 0;
  while (performance.now() - wallStart < minMs) {
    work();
    runs++;
  }
  const used = process.cpuUsage(start);
  return { micros: (used.user + used.system) / runs, runs };
}

export function table(rows: Array<Record<string, string | number>>): void {
  console.table(rows);
}
