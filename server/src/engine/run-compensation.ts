import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  TimeoutError,
  type CompensationRecord,
  type JsonObject,
  type SkillDefinition,
} from '@webguard/shared';
import { checkParamsAsync, describeIssues } from './check-params.js';
import { classifyError } from './classify-error.js';
import { createHttpClient } from './http-client.js';
import { createSkillContext } from './skill-context.js';
import { timerDelay } from './timer-delay.js';

export interface RunCompensationInput {
  skill: SkillDefinition;
  params: unknown;
  /** What the case's `run` returned. */
  outputs: JsonObject;
  caseName: string;
  executionId: number | null;
  timeoutMs: number;
  logger?: Logger;
  mask?: (text: string) => string;
}

/**
 * Runs a skill's `compensate` for a case that passed in a run that later failed. Never throws;
 * a skill without `compensate` has nothing to undo and passes.
 */
export async function runCompensation(input: RunCompensationInput): Promise<CompensationRecord> {
  const startedAt = new Date();
  const start = performance.now();
  const mask = input.mask ?? ((text: string) => text);
  const record = (error: string | null): CompensationRecord => ({
    status: error === null ? 'passed' : 'failed',
    started_at: startedAt.toISOString(),
    duration_ms: Math.round(performance.now() - start),
    error: error === null ? null : mask(error),
  });
  const { skill } = input;
  if (!skill.compensate) return record(null);

  const checked = await checkParamsAsync(input.skill.params, input.params);
  if (!checked.ok) return record(`invalid params: ${describeIssues(checked.issues)}`);

  const controller = new AbortController();
  const handle = createSkillContext({
    executionId: input.executionId,
    caseName: input.caseName,
    signal: controller.signal,
    http: createHttpClient({ signal: controller.signal }),
    logger: input.logger?.child({
      execution_id: input.executionId,
      case_name: input.caseName,
      phase: 'compensate',
    }),
    mask,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(() =>
        skill.compensate?.(handle.context, checked.params, input.outputs),
      ),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          const error = new TimeoutError(`compensation timed out after ${input.timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timerDelay(input.timeoutMs));
      }),
    ]);
    return record(null);
  } catch (error) {
    return record(classifyError(error).message);
  } finally {
    clearTimeout(timer);
    handle.finish();
  }
}
