import {
  FINAL_EXECUTION_STATUSES,
  type BrowserFrame,
  type ErrorType,
  type ExecutionStatus,
  type ExecutionWithResults,
  type LogEntry,
  type MetricRecord,
  type ResultStatus,
  type RunEvent,
  type StepRecord,
} from '@webguard/shared';

/**
 * One picture of a run built from the live event contract, whether the events come from the
 * cluster over Socket.IO, from the local runner over IPC, or from a finished run's REST record.
 * The live view renders only this, so cluster and local runs look the same.
 */
export type CaseState = 'queued' | 'running' | ResultStatus;

export interface StepView {
  name: string;
  status: 'running' | 'passed' | 'failed';
  duration_ms: number | null;
  error: string | null;
}

export interface ArtifactView {
  id: number | null;
  kind: string;
  name: string;
  content_type: string;
  url: string;
}

export interface CaseView {
  name: string;
  skill_name: string | null;
  state: CaseState;
  attempt: number;
  /** A later attempt is coming for this case. */
  retrying: boolean;
  flaky: boolean;
  duration_ms: number | null;
  error_type: ErrorType | null;
  error_message: string | null;
  stack_trace: string | null;
  result_id: number | null;
  steps: StepView[];
  logs: LogEntry[];
  metrics: MetricRecord[];
  artifacts: ArtifactView[];
}

export interface RunView {
  execution_id: number;
  suite_name: string | null;
  status: ExecutionStatus;
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  duration_ms: number | null;
  started_at: string | null;
  cases: CaseView[];
  /** The last event applied, to resume a subscription without gaps or duplicates. */
  last_seq: number;
  /** The newest browser frame per case name. */
  frames: Record<string, BrowserFrame>;
}

export const emptyRunView = (executionId: number): RunView => ({
  execution_id: executionId,
  suite_name: null,
  status: 'queued',
  total: 0,
  passed: 0,
  failed: 0,
  skipped: 0,
  duration_ms: null,
  started_at: null,
  cases: [],
  last_seq: 0,
  frames: {},
});

const FINAL = new Set<string>(FINAL_EXECUTION_STATUSES);
export const isFinalStatus = (status: ExecutionStatus): boolean => FINAL.has(status);

const newCase = (name: string, skill: string | null): CaseView => ({
  name,
  skill_name: skill,
  state: 'queued',
  attempt: 1,
  retrying: false,
  flaky: false,
  duration_ms: null,
  error_type: null,
  error_message: null,
  stack_trace: null,
  result_id: null,
  steps: [],
  logs: [],
  metrics: [],
  artifacts: [],
});

/** Keeps the log of one case bounded, like the server does. */
const MAX_LOGS = 1000;

function withCase(
  view: RunView,
  name: string,
  skill: string | null,
  change: (item: CaseView) => CaseView,
): RunView {
  const index = view.cases.findIndex((item) => item.name === name);
  const current = index === -1 ? newCase(name, skill) : view.cases[index]!;
  const next = change(current);
  const cases =
    index === -1
      ? [...view.cases, next]
      : view.cases.map((item, at) => (at === index ? next : item));
  return { ...view, cases };
}

/** Applies one event; events at or below `last_seq` were seen already and change nothing. */
export function applyRunEvent(view: RunView, event: RunEvent): RunView {
  if (event.seq <= view.last_seq) return view;
  const next = reduce(view, event);
  return { ...next, last_seq: event.seq };
}

function reduce(view: RunView, event: RunEvent): RunView {
  switch (event.type) {
    case 'execution.queued':
      return { ...view, suite_name: event.suite_name, total: event.total_tests };
    case 'execution.started':
      return { ...view, status: 'running', started_at: event.time };
    case 'execution.finished':
      return {
        ...view,
        status: event.status,
        total: event.total_tests,
        passed: event.passed_tests,
        failed: event.failed_tests,
        skipped: event.skipped_tests,
        duration_ms: event.duration_ms,
      };
    case 'case.queued':
      return withCase(view, event.case_name, event.skill_name, (item) => ({
        ...item,
        state: 'queued',
        attempt: event.attempt,
      }));
    case 'case.started':
      return withCase(view, event.case_name, event.skill_name, (item) => ({
        ...item,
        state: 'running',
        attempt: event.attempt,
        retrying: false,
        // A new attempt starts from a clean slate; the previous one's record is in its logs.
        steps: event.attempt > item.attempt ? [] : item.steps,
      }));
    case 'case.finished':
      return withCase(view, event.case_name, null, (item) => ({
        ...item,
        state: event.will_retry ? 'queued' : event.status,
        retrying: event.will_retry,
        attempt: event.attempt,
        flaky: event.status === 'passed' && event.attempt > 1,
        duration_ms: event.duration_ms,
        error_type: event.error_type,
        error_message: event.error_message,
        result_id: event.result_id ?? item.result_id,
        steps: item.steps.map((step) =>
          step.status === 'running' ? { ...step, status: 'failed' } : step,
        ),
      }));
    case 'step.started':
      return withCase(view, event.case_name, null, (item) => ({
        ...item,
        steps: [
          ...item.steps,
          { name: event.name, status: 'running', duration_ms: null, error: null },
        ],
      }));
    case 'step.finished':
      return withCase(view, event.case_name, null, (item) => {
        const finished: StepView = {
          name: event.step.name,
          status: event.step.status,
          duration_ms: event.step.duration_ms,
          error: event.step.error ?? null,
        };
        const open = item.steps.findLastIndex(
          (step) => step.status === 'running' && step.name === event.step.name,
        );
        const steps =
          open === -1
            ? [...item.steps, finished]
            : item.steps.map((step, at) => (at === open ? finished : step));
        return { ...item, steps };
      });
    case 'log':
      return withCase(view, event.case_name, null, (item) => ({
        ...item,
        logs: item.logs.length >= MAX_LOGS ? item.logs : [...item.logs, event.entry],
      }));
    case 'metric':
      return withCase(view, event.case_name, null, (item) => ({
        ...item,
        metrics: [...item.metrics, event.metric],
      }));
    case 'artifact.added':
      return withCase(view, event.case_name, null, (item) => ({
        ...item,
        artifacts: [...item.artifacts, { ...event.artifact }],
      }));
  }
}

/** Adds the newest frame of a case; frames are not events and never replayed. */
export function applyFrame(view: RunView, frame: BrowserFrame): RunView {
  const previous = view.frames[frame.case_name];
  if (previous && previous.frame >= frame.frame) return view;
  return { ...view, frames: { ...view.frames, [frame.case_name]: frame } };
}

/** The picture a stored run gives: what REST knows once cases have finished. */
export function runViewFromExecution(execution: ExecutionWithResults): RunView {
  return {
    ...emptyRunView(execution.id),
    suite_name: execution.suite_name,
    status: execution.status,
    total: execution.total_tests,
    passed: execution.passed_tests,
    failed: execution.failed_tests,
    skipped: execution.skipped_tests,
    duration_ms: execution.execution_time_ms,
    started_at: execution.started_at,
    cases: execution.results.map((result) => ({
      name: result.test_name,
      skill_name: result.skill_name,
      state: result.status,
      attempt: result.retry_count + 1,
      retrying: false,
      flaky: result.flaky,
      duration_ms: result.execution_time_ms,
      error_type: result.error_type,
      error_message: result.error_message,
      stack_trace: result.stack_trace,
      result_id: result.id,
      steps: result.steps.map((step: StepRecord) => ({
        name: step.name,
        status: step.status,
        duration_ms: step.duration_ms,
        error: step.error ?? null,
      })),
      logs: result.logs,
      metrics: result.metrics.map(({ name, value, unit }) => ({ name, value, unit })),
      artifacts: [],
    })),
  };
}

/**
 * Joins the stored record with the live one: a case's stored result wins once it exists (it has
 * the stack trace and the result id), the live case fills in everything still going.
 */
export function mergeRunViews(stored: RunView | null, live: RunView | null): RunView | null {
  if (!stored) return live;
  if (!live || live.last_seq === 0) return stored;
  const storedFinal = isFinalStatus(stored.status);
  const header = storedFinal || live.status === 'queued' ? stored : live;
  const names = [
    ...new Set([...live.cases.map((item) => item.name), ...stored.cases.map((item) => item.name)]),
  ];
  const cases = names.map((name) => {
    const fromStore = stored.cases.find((item) => item.name === name);
    const fromLive = live.cases.find((item) => item.name === name);
    if (fromStore && fromLive) {
      return {
        ...fromStore,
        artifacts: fromLive.artifacts.length > 0 ? fromLive.artifacts : fromStore.artifacts,
        logs: fromStore.logs.length > 0 ? fromStore.logs : fromLive.logs,
      };
    }
    return (fromStore ?? fromLive)!;
  });
  return {
    ...header,
    suite_name: stored.suite_name ?? live.suite_name,
    total: Math.max(stored.total, live.total),
    cases,
    last_seq: live.last_seq,
    frames: live.frames,
  };
}
