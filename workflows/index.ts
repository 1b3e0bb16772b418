// The workflow bundle's entry point: every workflow type a worker serves.
export { dualIpoCampaign } from './campaign';
export { dualIpoRound } from './round';
export { srpoCriticRefinement } from './critic-refinement';
export { shardedStage } from './sharded-stage';
export { humanTestRefresh } from './human-test';
