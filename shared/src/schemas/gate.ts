import { z } from 'zod';
import { Id, Timestamp } from './common.js';

export const FINDING_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export const FindingSeverity = z.enum(FINDING_SEVERITIES);
export type FindingSeverity = z.infer<typeof FindingSeverity>;

/** A bound on a metric skills report (e.g. the load test's `latency_p95`), over the run's cases. */
export const MetricThreshold = z.strictObject({
  metric: z.string().trim().min(1).max(100),
  aggregate: z.enum(['max', 'min', 'avg']).default('max').describe('how the cases’ values combine'),
  max: z.number().finite().optional(),
  min: z.number().finite().optional(),
});
export type MetricThreshold = z.infer<typeof MetricThreshold>;

/**
 * A suite's quality gate, judged when a run ends. Every rule is optional; quarantined cases are
 * left out of every rule.
 */
export const QualityGate = z.strictObject({
  max_failures: z.number().int().min(0).optional().describe('failed, errored or timed-out cases'),
  min_pass_rate: z.number().min(0).max(100).optional().describe('percent of cases that ran'),
  max_p95_case_ms: z.number().int().min(1).optional(),
  max_flake_rate: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('share of cases that passed only after a retry'),
  max_security_findings: z
    .strictObject({ severity: FindingSeverity, max: z.number().int().min(0) })
    .optional()
    .describe('findings of this severity or worse, from `findings_<severity>` metrics'),
  metrics: z.array(MetricThreshold).max(50).optional(),
});
export type QualityGate = z.infer<typeof QualityGate>;

/** One rule's verdict with the value the run had. */
export const GateRuleResult = z.object({
  rule: z.string(),
  limit: z.number(),
  value: z.number().nullable().describe('null when the run had nothing to measure'),
  passed: z.boolean(),
});
export type GateRuleResult = z.infer<typeof GateRuleResult>;

export const QualityGateResult = z.object({
  passed: z.boolean(),
  rules: z.array(GateRuleResult),
  quarantined: z.array(z.string()).describe('cases left out because they are quarantined'),
  evaluated_at: Timestamp,
});
export type QualityGateResult = z.infer<typeof QualityGateResult>;

/** A case kept running and reported, but not allowed to fail its run or gate, until `until`. */
export const Quarantine = z.object({
  id: z.number().int(),
  suite_id: z.number().int(),
  case_name: z.string(),
  reason: z.string(),
  created_by: z.string().describe('who quarantined it'),
  created_at: Timestamp,
  until: Timestamp,
  lifted_at: Timestamp.nullable(),
});
export type Quarantine = z.infer<typeof Quarantine>;

export const CreateQuarantineBody = z.strictObject({
  case_name: z.string().trim().min(1).max(255),
  reason: z.string().trim().min(1).max(2000),
  until: Timestamp.describe('when the quarantine ends by itself (at most 90 days ahead)'),
});
export type CreateQuarantineBody = z.infer<typeof CreateQuarantineBody>;

export const QuarantineParams = z.object({ id: Id, quarantineId: Id });

export const FailureGroupsQuery = z.object({
  suite_id: Id.optional(),
  days: z.coerce.number().int().min(1).max(365).default(30),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type FailureGroupsQuery = z.infer<typeof FailureGroupsQuery>;

/** Failures that share one normalized error message, across runs. */
export const FailureGroup = z.object({
  signature: z.string().describe('hash of the normalized message'),
  message: z.string().describe('the normalized message: numbers, ids, quoted text and URLs masked'),
  error_type: z.string().nullable(),
  occurrences: z.number().int(),
  cases: z.array(z.object({ suite_id: z.number().int(), test_name: z.string() })),
  first_seen_at: Timestamp,
  last_seen_at: Timestamp,
  example: z.string().describe('one original message'),
});
export type FailureGroup = z.infer<typeof FailureGroup>;

export const FailureGroupList = z.object({ days: z.number().int(), items: z.array(FailureGroup) });
export type FailureGroupList = z.infer<typeof FailureGroupList>;
