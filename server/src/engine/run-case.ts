import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  SkillError,
  TimeoutError,
  type CaseOutcome,
  type JsonObject,
  type SkillDefinition,
} from '@webguard/shared';
import { caseCapabilities, type ArtifactSink } from './artifact-sink.js';
import type { BrowserPool, CaseBrowser, FrameSink, Screencast } from './browser/index.js';
import { checkParamsAsync, describeIssues } from './check-params.js';
import { classifyError, type ErrorClassification } from './classify-error.js';
import { createHttpClient } from './http-client.js';
import { maskJson } from './masking.js';
import { runAsSkill } from './exit-guard.js';
import { createSkillContext, type CaseListeners, type CaseRecord } from './skill-context.js';
import { timerDelay } from './timer-delay.js';
import { toJsonObject } from './to-json-object.js';

/**
 * Loaded with the first browser case: Playwright takes seconds to import on a small machine, and
 * a sandbox thread that only ever runs API cases never needs it.
 */
const loadBrowserSupport = () => import('./browser/index.js');

export interface RunCaseInput extends CaseListeners {
  skill: SkillDefinition;
  /** Unvalidated: checked against the skill's schema first. */
  params: unknown;
  caseName: string;
  /** Null for a local run that has no execution. */
  executionId: number | null;
  /** The case's limit; the skill's own `timeoutMs` applies when lower. */
  timeoutMs: number;
  /** Aborting it cancels the case (the case ends `error`, message "cancelled"). */
  signal?: AbortSignal;
  logger?: Logger;
  /** Hides secret values (resolved into params) in logs, steps, errors and outputs. */
  mask?: (text: string) => string;
  /** The worker's browser, for cases of browser skills. */
  browsers?: BrowserPool;
  /** Keeps the case's screenshots, video, trace, logs and attachments; none drops them. */
  artifacts?: ArtifactSink;
  /** Live frames of a browser case's page, streamed while someone watches the run. */
  frames?: FrameSink;
}

type Ending =
  | { kind: 'returned'; value: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timeout'; message: string }
  | { kind: 'cancelled' };

type Verdict = Pick<
  CaseOutcome,
  'status' | 'error_type' | 'error_message' | 'stack_trace' | 'outputs'
>;

const emptyRecord = (): CaseRecord => ({ steps: [], metrics: [], logs: [] });
const CANCELLED = 'cancelled';

const passed = (outputs: JsonObject): Verdict => ({
  status: 'passed',
  error_type: null,
  error_message: null,
  stack_trace: null,
  outputs,
});

const failedWith = (classification: ErrorClassification): Verdict => ({
  status: classification.status,
  error_type: classification.errorType,
  error_message: classification.message,
  stack_trace: classification.stack,
  outputs: {},
});

const systemError = (message: string): Verdict =>
  failedWith({ errorType: 'system', status: 'error', message, stack: null });

/** The limit a case of `skill` runs under: the case's, or the skill's own when lower. */
export function describeLimit(
  skill: Pick<SkillDefinition, 'name' | 'timeoutMs'>,
  caseTimeoutMs: number,
): { ms: number; whose: string } {
  const skillLimit = skill.timeoutMs ?? Number.POSITIVE_INFINITY;
  return skillLimit < caseTimeoutMs
    ? { ms: skillLimit, whose: `skill "${skill.name}"'s limit` }
    : { ms: caseTimeoutMs, whose: "the case's limit" };
}

function verdictFor(ending: Ending): Verdict {
  switch (ending.kind) {
    case 'timeout':
      return failedWith({
        errorType: 'timeout',
        status: 'timeout',
        message: ending.message,
        stack: null,
      });
    case 'cancelled':
      return systemError(CANCELLED);
    case 'threw':
      return failedWith(classifyError(ending.error));
    case 'returned': {
      if (ending.value === undefined) return passed({});
      const outputs = toJsonObject(ending.value);
      return outputs.ok
        ? passed(outputs.value)
        : systemError(
            `the skill's outputs must be a JSON object or nothing, but ${outputs.reason}`,
          );
    }
  }
}

/**
 * Runs one case of a skill and reports how it went. Never throws: a broken skill, a timeout or a
 * cancel all end as a `CaseOutcome`. The case ends at its deadline even when the skill ignores
 * its abort signal; whatever the skill does after that is not recorded.
 */
export async function runCase(input: RunCaseInput): Promise<CaseOutcome> {
  const startedAt = new Date();
  const start = performance.now();
  const logger = input.logger?.child({
    execution_id: input.executionId,
    case_name: input.caseName,
    skill: input.skill.name,
  });
  const mask = input.mask ?? ((text: string) => text);
  const outcome = (verdict: Verdict, record: CaseRecord): CaseOutcome => ({
    ...verdict,
    error_message: verdict.error_message === null ? null : mask(verdict.error_message),
    stack_trace: verdict.stack_trace === null ? null : mask(verdict.stack_trace),
    outputs: maskJson(verdict.outputs, mask),
    started_at: startedAt.toISOString(),
    completed_at: new Date().toISOString(),
    execution_time_ms: Math.round(performance.now() - start),
    ...record,
  });

  let screencast: Screencast | undefined;
  try {
    // 1. A case cancelled before it started does not run at all.
    if (input.signal?.aborted) return outcome(systemError(CANCELLED), emptyRecord());

    // 2. Params are checked again here: they may have been saved before the skill changed.
    const checked = await checkParamsAsync(input.skill.params, input.params);
    if (!checked.ok) {
      const message = `invalid params for skill "${input.skill.name}": ${describeIssues(checked.issues)}`;
      return outcome(systemError(message), emptyRecord());
    }

    // 3. Browser skills get a fresh context on the worker's shared Chromium.
    let browser: CaseBrowser | undefined;
    let support: Awaited<ReturnType<typeof loadBrowserSupport>> | undefined;
    if (input.skill.category === 'browser') {
      try {
        support = await loadBrowserSupport();
        const options = { artifacts: input.artifacts, caseName: input.caseName, logger };
        browser = await support.openCaseBrowser(input.browsers, checked.params, options);
      } catch (error) {
        return outcome(systemError(classifyError(error).message), emptyRecord());
      }
    }
    if (browser && support && input.frames)
      screencast = new support.Screencast(browser.page, input.frames, logger);

    // 4. One controller ends everything the skill started, at the deadline or on cancel.
    const controller = new AbortController();
    const handle = createSkillContext({
      executionId: input.executionId,
      caseName: input.caseName,
      signal: controller.signal,
      http: createHttpClient({ signal: controller.signal }),
      logger,
      mask,
      onLog: input.onLog,
      onStepStart: input.onStepStart,
      onStep: input.onStep,
      onMetric: input.onMetric,
      capabilities: caseCapabilities({ browser, artifacts: input.artifacts, logger }),
    });

    // 5. Race the skill against the deadline and the cancel signal; the first to settle wins.
    const limit = describeLimit(input.skill, input.timeoutMs);
    let stopWaiting = (): void => {};
    const ending = await new Promise<Ending>((resolve) => {
      const timer = setTimeout(() => {
        const message = `the case timed out after ${limit.ms} ms (${limit.whose})`;
        resolve({ kind: 'timeout', message });
        controller.abort(new TimeoutError(message));
      }, timerDelay(limit.ms));
      const onCancel = (): void => {
        resolve({ kind: 'cancelled' });
        controller.abort(new SkillError('system', CANCELLED));
      };
      input.signal?.addEventListener('abort', onCancel, { once: true });
      stopWaiting = () => {
        clearTimeout(timer);
        input.signal?.removeEventListener('abort', onCancel);
      };
      Promise.resolve()
        .then(() =>
          runAsSkill(input.skill.name, () => input.skill.run(handle.context, checked.params)),
        )
        .then(
          (value) => resolve({ kind: 'returned', value }),
          (error: unknown) => resolve({ kind: 'threw', error }),
        );
    });
    stopWaiting();

    // 6. Keep what the skill recorded. The signal is left alone when the case ended by itself:
    // the SDK promises it aborts only on timeout or cancel.
    const interruption =
      ending.kind === 'timeout'
        ? ending.message
        : ending.kind === 'cancelled'
          ? CANCELLED
          : undefined;
    let verdict = verdictFor(ending);
    await screencast?.stop();
    if (browser && support)
      verdict = await support.settleCaseBrowser(browser, verdict, systemError, handle.context.log);
    return outcome(verdict, handle.finish(interruption));
  } catch (error) {
    // Only a bug in the engine itself gets here; the case still gets an outcome.
    logger?.error({ err: error }, 'the engine failed while running a case');
    await screencast?.stop();
    const classification = classifyError(error);
    return outcome(
      failedWith({ ...classification, errorType: 'system', status: 'error' }),
      emptyRecord(),
    );
  }
}
