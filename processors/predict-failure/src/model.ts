import { InferenceSession, Tensor } from 'onnxruntime-node';
import { GpumonError, errorMessage } from '@gpumon/runtime/errors';
import { readModelFiles, type ModelManifest } from './manifest.js';

/**
 * The failure model loaded once into onnxruntime: rows of features in, probabilities of failure
 * within the horizon out. Rows are float32, as XGBoost itself reads them; NaN is a missing value.
 */
export class FailureModel {
  readonly featureCount: number;

  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: InferenceSession,
  ) {
    this.featureCount = manifest.features.length;
  }

  static async load(manifestPath: string): Promise<FailureModel> {
    const { manifest, onnx, onnxPath } = readModelFiles(manifestPath);
    let session: InferenceSession;
    try {
      // One thread per session: the processor scales by instances, and two cores are shared with Kafka.
      session = await InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    } catch (error) {
      throw new GpumonError('config_invalid', `model file ${onnxPath} is not a model onnxruntime can load: ${errorMessage(error)}`, { cause: error });
    }
    if (!session.inputNames.includes(manifest.input) || !session.outputNames.includes(manifest.output)) {
      await session.release();
      throw new GpumonError('config_invalid',
        `model file ${onnxPath} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}], but its manifest names input ${manifest.input} and output ${manifest.output}`);
    }
    return new FailureModel(manifest, session);
  }

  /** P(failure) of each of the `rows.length / featureCount` rows, in one inference call. */
  async probabilities(rows: Float32Array): Promise<Float32Array> {
    const count = rows.length / this.featureCount;
    if (count === 0) return new Float32Array(0);
    const input = new Tensor('float32', rows, [count, this.featureCount]);
    const output = (await this.session.run({ [this.manifest.input]: input }, [this.manifest.output]))[this.manifest.output];
    const data = output?.data;
    if (!(data instanceof Float32Array) || data.length !== count * 2) {
      throw new GpumonError('transform_failed', `model ${this.manifest.name} ${this.manifest.version} returned ${output?.type ?? 'no'} output of ${data?.length ?? 0} values for ${count} rows; expected float32 [${count}, 2]`);
    }
    // Column 1 is the failure class.
    const failure = new Float32Array(count);
    for (let i = 0; i < count; i++) failure[i] = data[2 * i + 1] as number;
    return failure;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
