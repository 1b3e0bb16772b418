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
    // A test set refreshed from the champion's candidates (lib/stages/annotation) starts with its fixed
    // pairs: their agreement is comparable across rounds, the refreshed pairs' is the critic on the
    // current generator's samples. Same seed as above, so the figures are reproducible.
    const { stats } = await ctx.store.getJson<{ stats?: { fixedPairs?: unknown } }>(input(ctx, 'humanTest'));
    const fixed = typeof stats?.fixedPairs === 'number' ? stats.fixedPairs : 0;
    if (fixed > 0 && fixed < test.length) {
      for (const [part, examples] of [['fixed', test.slice(0, fixed)], ['refreshed', test.slice(fixed)]] as const) {
        const pa = await criticAgreement(exec, examples, { paths: p.paths, seed: `${p.seed}/validate` });
        metrics[`agreementPairwise_${part}`] = pa.pairwise.agreement;
        metrics[`pairsCounted_${part}`] = pa.pairwise.counted;
      }
    }
    return { outputs: {}, metrics: finiteMetrics(metrics) };
  } finally {
    await exec.release();
  }
}
