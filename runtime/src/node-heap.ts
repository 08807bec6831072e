/**
 * Node flags every long-running gpumon process is started with (the demo, the benchmarks; deployments
 * as docs/scaling.md says). Without a limit V8 sizes the heap from the machine's memory (4 GB here)
 * and lets it grow to several times the live data before collecting, so a sink catching up on a
 * backlog sat at 700–1,000 MB resident. What a consumer holds in flight is bounded (1 MiB partition
 * fetches, consumer-loop's maxPendingRecords), so this limit leaves it room and keeps each process
 * under 300 MB.
 */
export const NODE_HEAP_ARGS: readonly string[] = ['--max-old-space-size=256'];
