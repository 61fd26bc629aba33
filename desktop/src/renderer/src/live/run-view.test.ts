import { describe, expect, it } from 'vitest';
import { LIVE_EVENTS_VERSION, type RunEvent, type RunEventDraft } from '@webguard/shared';
import {
  applyRunEvent,
  emptyRunView,
  mergeRunViews,
  type CaseView,
  type RunView,
} from './run-view';

let seq = 0;
const event = (draft: RunEventDraft): RunEvent => {
  seq += 1;
  return { v: LIVE_EVENTS_VERSION, seq, time: new Date().toISOString(), ...draft } as RunEvent;
};
const ref = { execution_id: 5, case_id: 1, case_name: 'login' };

describe('run view', () => {
  it('follows a run from queued to finished, with retries, steps, logs and files', () => {
    seq = 0;
    const events: RunEvent[] = [
      event({
        execution_id: 5,
        type: 'execution.queued',
        suite_id: 1,
        suite_name: 'smoke',
        total_tests: 1,
        triggered_by: 'manual',
      }),
      event({ execution_id: 5, type: 'execution.started' }),
      event({ ...ref, type: 'case.started', skill_name: 'browser-flow', attempt: 1 }),
      event({ ...ref, type: 'step.started', name: 'open' }),
      event({
        ...ref,
        type: 'case.finished',
        status: 'error',
        error_type: 'network',
        error_message: 'reset',
        duration_ms: 30,
        attempt: 1,
        will_retry: true,
        result_id: null,
      }),
      event({ ...ref, type: 'case.started', skill_name: 'browser-flow', attempt: 2 }),
      event({ ...ref, type: 'step.started', name: 'open' }),
      event({
        ...ref,
        type: 'log',
        entry: { time: new Date().toISOString(), level: 'info', message: 'opened' },
      }),
      event({
        ...ref,
        type: 'step.finished',
        step: {
          name: 'open',
          status: 'passed',
          started_at: new Date().toISOString(),
          duration_ms: 12,
        },
      }),
      event({
        ...ref,
        type: 'artifact.added',
        artifact: {
          id: 9,
          kind: 'screenshot',
          name: 'a.png',
          content_type: 'image/png',
          size_bytes: 10,
          url: '/api/v1/artifacts/9',
        },
      }),
      event({
        ...ref,
        type: 'case.finished',
        status: 'passed',
        error_type: null,
        error_message: null,
        duration_ms: 40,
        attempt: 2,
        will_retry: false,
        result_id: 77,
      }),
      event({
        execution_id: 5,
        type: 'execution.finished',
        status: 'passed',
        total_tests: 1,
        passed_tests: 1,
        failed_tests: 0,
        skipped_tests: 0,
        duration_ms: 90,
      }),
    ];
    const states: string[] = [];
    let view: RunView = emptyRunView(5);
    for (const item of events) {
      view = applyRunEvent(view, item);
      states.push(view.cases[0]?.state ?? '-');
    }
    expect(states).toEqual([
      '-',
      '-',
      'running',
      'running',
      'queued',
      'running',
      'running',
      'running',
      'running',
      'running',
      'passed',
      'passed',
    ]);
    expect(view).toMatchObject({
      status: 'passed',
      suite_name: 'smoke',
      passed: 1,
      last_seq: 12,
      duration_ms: 90,
    });
    expect(view.cases[0]).toMatchObject({
      attempt: 2,
      flaky: true,
      result_id: 77,
      steps: [{ name: 'open', status: 'passed', duration_ms: 12 }],
    });
    expect(view.cases[0]?.logs.map((entry) => entry.message)).toEqual(['opened']);
    expect(view.cases[0]?.artifacts).toHaveLength(1);

    // A replay after a reconnect repeats nothing.
    expect(events.reduce(applyRunEvent, view)).toBe(view);
  });

  it('prefers the stored result of a finished case and the live state of one still going', () => {
    const failedCase: CaseView = {
      name: 'a',
      skill_name: 'echo',
      state: 'failed',
      attempt: 1,
      retrying: false,
      flaky: false,
      duration_ms: 5,
      error_type: 'assertion',
      error_message: 'no',
      stack_trace: 'at x',
      result_id: 3,
      steps: [],
      logs: [],
      metrics: [],
      artifacts: [],
    };
    const stored: RunView = { ...emptyRunView(5), status: 'running', cases: [failedCase] };
    const live: RunView = {
      ...emptyRunView(5),
      status: 'running',
      last_seq: 9,
      cases: [
        { ...failedCase, stack_trace: null },
        { ...failedCase, name: 'b', state: 'running', result_id: null, stack_trace: null },
      ],
    };
    const merged = mergeRunViews(stored, live);
    expect(merged?.cases.map((item) => [item.name, item.state, item.stack_trace])).toEqual([
      ['a', 'failed', 'at x'],
      ['b', 'running', null],
    ]);
  });
});
