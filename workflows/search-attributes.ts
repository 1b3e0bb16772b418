// Custom search attributes: find a campaign and its rounds with
// `temporal workflow list --query 'DualIpoCampaignId="x" AND DualIpoGateOutcome="rejected"'`.
import { defineSearchAttributeKey } from '@temporalio/common';

export const CampaignIdKey = defineSearchAttributeKey('DualIpoCampaignId', 'KEYWORD');
export const RoundKey = defineSearchAttributeKey('DualIpoRound', 'INT');
export const StageKey = defineSearchAttributeKey('DualIpoStage', 'KEYWORD');
export const GateOutcomeKey = defineSearchAttributeKey('DualIpoGateOutcome', 'KEYWORD');
export const ChampionCriticKey = defineSearchAttributeKey('DualIpoChampionCritic', 'KEYWORD');
export const ChampionGeneratorKey = defineSearchAttributeKey('DualIpoChampionGenerator', 'KEYWORD');

export const SEARCH_ATTRIBUTE_KEYS = [
  CampaignIdKey,
  RoundKey,
  StageKey,
  GateOutcomeKey,
  ChampionCriticKey,
  ChampionGeneratorKey,
] as const;
