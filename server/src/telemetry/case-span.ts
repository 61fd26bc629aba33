import { context, trace, type Context, type Span } from '@opentelemetry/api';
import type { CaseOutcome, StepRecord } from '@webguard/shared';
import { tracer } from './tracing.js';

/** A case attempt's span and its steps' spans, under the trace of the run's trigger. */
export interface CaseSpan {
  /** Runs `work` with the case span active, so its logs carry the trace id. */
  run<T>(work: () => Promise<T>): Promise<T>;
  stepStarted(name: string): void;
  stepFinished(step: StepRecord): void;
  end(outcome: Pick<CaseOutcome, 'status' | 'error_message'>): void;
}

export function startCaseSpan(
  parent: Context,
  attributes: {
    executionId: number;
    caseId: number;
    caseName: string;
    skill: string;
    attempt: number;
  },
): CaseSpan {
  const span = tracer().startSpan(
    `case ${attributes.caseName}`,
    {
      attributes: {
        'webguard.execution_id': attributes.executionId,
        'webguard.case_id': attributes.caseId,
        'webguard.case_name': attributes.caseName,
        'webguard.skill': attributes.skill,
        'webguard.attempt': attributes.attempt,
      },
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  // Steps nest; a name may repeat, so each name keeps a stack of its open spans.
  const open = new Map<string, Span[]>();
  return {
    run: (work) => context.with(active, work),
    stepStarted(name) {
      const step = tracer().startSpan(`step ${name}`, {}, active);
      open.set(name, [...(open.get(name) ?? []), step]);
    },
    stepFinished(step) {
      const stack = open.get(step.name);
      const stepSpan = stack?.pop();
      if (!stepSpan) return;
      if (step.status === 'failed')
        stepSpan.setStatus({ code: 2, message: step.error ?? 'the step failed' });
      stepSpan.end();
    },
    end(outcome) {
      for (const stack of open.values()) for (const stepSpan of stack) stepSpan.end();
      span.setAttribute('webguard.status', outcome.status);
      if (outcome.status !== 'passed' && outcome.status !== 'skipped')
        span.setStatus({ code: 2, message: outcome.error_message ?? outcome.status });
      span.end();
    },
  };
}
