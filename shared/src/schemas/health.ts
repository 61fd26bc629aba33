import { z } from 'zod';

export const HealthResponse = z.object({ status: z.literal('ok') });

export const ReadinessResponse = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(
    z.string(),
    z.object({ ok: z.boolean(), latency_ms: z.number().optional(), error: z.string().optional() }),
  ),
});
export type ReadinessResponse = z.infer<typeof ReadinessResponse>;
