/**
 * Node flags every long-running gpumon process is started with (the demo, the benchmarks; deployments
 * as docs/scaling.md says). Without a limit V8 sizes the heap from the machine's memory (4 GB here)
 * and lets it grow to several times the live data before collecting, so a sink catching up on a
 * backlog sat at 700–1,000 MB resident. What a consumer holds in flight is bounded (1 MiB partition
 * fetches, consumer-loop's maxPendingRecords), so this limit leaves it room. V8 also sizes the young
 * generation from the machine's memory (two 64 MiB semi-spaces on 24 GiB, 2 MiB ones in a 384 MiB
 * container): 16 MiB took 90–120 MB off each process's peak without costing CPU, where 2 cost the
 * processors 30 µs a sample (docs/scaling.md#memory). What a processor promotes out of it is mostly
 * records it is already done with; V8 set the old generation's limit for a full collection near
 * 1.5 times what was live (about 50 MB), so the processors ran one every 200 ms at 8,000 samples/s.
 * Starting that limit at 96 MB, which V8 keeps as a floor, took them from 119 to 29 in 25 s and
 * their CPU from 51-55 to 37-39 µs a sample, for 20-30 MB more at their peak.
 */
export const NODE_HEAP_ARGS: readonly string[] = ['--max-old-space-size=256', '--max-semi-space-size=16', '--initial-old-space-size=96'];

/**
 * The environment beside those flags. glibc gives each thread that allocates at once (V8's GC
 * helpers, libuv's pool) an arena of its own, and freed memory stays in them: two arenas took about
 * 20 MB off the sink's peak at the same CPU. glibc also raises the size from which it maps a block
 * of its own to the largest one freed so far, so after the first fetch response (megabytes) they
 * all came from the arenas, which held 55-68 MB free beside 40-50 in use in the sink at 14,000
 * samples/s. A fixed 128 KiB keeps them mapped and given back when freed: 298-307 MB against
 * 309-333 at that rate, for under 1 µs a sample more system CPU.
 */
export const NODE_PROCESS_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };
