// validate (appendix C): the critic's agreement with the held-out human test set, the
// human-agreement gate's figure.
import type { StageContext, StageOutput } from '../contract';
import { criticAgreement, CriticOnnx, loadCritic, DIMENSIONS } from '../../models/critic';
import { readParams } from '../params';
import { finiteMetrics, input, prepare, runtimeOptions } from './common';
import { humanExamples } from './critic-features';

export async function validateStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = readParams('validate', ctx);
  const critic = await loadCritic(ctx.store, input(ctx, 'critic'));
  const test = await humanExamples(ctx, input(ctx, 'humanTest'), 'humanTest', critic.config.featureVersion);
  const exec = await CriticOnnx.create(critic, runtimeOptions(p));
  try {
    const a = await criticAgreement(exec, test, { paths: p.paths, seed: `${p.seed}/validate` });
    const metrics: Record<string, number> = { agreementPairwise: a.pairwise.agreement, agreementPointwise: a.pointwise.agreement, pairsCounted: a.pairwise.counted, videosCounted: a.pointwise.counted };
    for (const d of DIMENSIONS) {
      metrics[`agreementPairwise_${d}`] = a.perDimension[d].pairwise;
      metrics[`agreementPointwise_${d}`] = a.perDimension[d].pointwise;
    }
    return { outputs: {}, metrics: finiteMetrics(metrics) };
  } finally {
    await exec.release();
  }
}
