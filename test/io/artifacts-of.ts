/** The artifacts of a live model for the format tests: the library's own modelToArtifacts (weights, no optimizer state). */
import type * as rnn from '../../src/index';
import { modelToArtifacts } from '../../src/model/serialize';
import type { ModelArtifacts } from '../../src/io/artifacts';

export async function artifactsOf(model: rnn.Sequential | rnn.Model, _withWeights = true): Promise<ModelArtifacts> {
  return modelToArtifacts(model as never, { includeOptimizer: false });
}
