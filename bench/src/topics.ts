import { createLogger } from '@gpumon/runtime/log';
import { openPipeline, type PipelineSettings } from '@gpumon/runtime/pipeline';
import { STREAMS } from '@gpumon/schemas/topics';

/** What `gpumon topics` does, in process: a benchmark's stages only look its topics and schemas up. */
export async function provisionTopics(settings: PipelineSettings): Promise<void> {
  const pipeline = await openPipeline(settings, 'bench-topics', STREAMS, createLogger('bench-topics'), 'provision');
  await pipeline.close();
}
