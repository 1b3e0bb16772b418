// The held-out audit's record (written by audit.ts, read by the report): kept apart from audit.ts so
// that reading a report does not load the models.

export interface AuditedGenerator {
  /** 0 = the base generator; otherwise the round whose candidate was accepted. */
  round: number;
  version: string;
  sha256: string;
  total: number;
  quality: number;
  semantic: number;
  /**
   * Standard error of this generator's gain over the base (total - base total): the jackknife over
   * prompts of the paired Total difference (same prompts and seeds: pairedTotalGain, lib/world).
   * Absent for the base.
   */
  gainStandardError?: number;
  /** The simulated user study against the base (lib/world/user-study.ts); absent for the base and in audits before version 2. */
  study?: AuditStudy;
}

export interface WinLossTie {
  wins: number;
  losses: number;
  ties: number;
}

/** The panel's pairwise verdicts on this generator's videos against the base's (same prompts and seeds). */
export interface AuditStudy extends WinLossTie {
  pairs: number;
  /** (wins - losses) / pairs, in [-1, 1]. */
  net: number;
  /** Jackknife over prompts of `net`. */
  standardError?: number;
  /** Per human dimension (semantic, motion, faithfulness), from this generator's side. */
  dimensions: Record<string, WinLossTie>;
}

export interface CampaignAudit {
  format: 'dual-ipo/audit@1';
  campaignId: string;
  prompts: number;
  videos: number;
  /** The base generator, then each accepted generator in order. */
  generators: AuditedGenerator[];
  /** How the gains' standard errors were computed; audits without it are recomputed. */
  errors?: typeof AUDIT_ERRORS;
  /** What the audit computes; an audit of another version (absent = 1) is recomputed. */
  version?: number;
  /** How the user study's panel read the evidence (assessment.ts). */
  studyEvidence?: string;
}

export const AUDIT_ERRORS = 'prompt-jackknife';

/** 2: a user study beside the Total. */
export const AUDIT_VERSION = 2;

/**
 * Audit prompts by default (2 videos each). Measured on the quickstart's campaigns (2026-11-27): with
 * 256 prompts a gain's standard error was about 0.2 point of Total, as large as the gains the loop
 * makes, and the spread between seeds was mostly that noise (seeds 2 and 3 read +0.08 and +0.04;
 * on 2,048 prompts +0.44 and +0.32, standard errors 0.07-0.08). About 35 s per generator.
 */
export const AUDIT_PROMPTS = 2048;

/** The experiment's view of an audit: base and final held-out Total. */
export interface AuditResult {
  base: number;
  final: number;
  /** Paired standard error of final - base, when the audit has one. */
  gainStandardError?: number;
  /** The user study of the final generator against the base, when the audit has one. */
  study?: AuditStudy;
  prompts: number;
  videos: number;
}

export const auditKey = (campaignId: string) => `campaigns/${campaignId}/audit.json`;
