import { describe, expect, it } from 'vitest';
import { DashboardTick, RunEvent, SubscribeRun } from './events.js';

const base = { v: 1, seq: 3, time: '2026-11-23T10:00:00.000Z', execution_id: 7 } as const;

describe('live events', () => {
  it('reads each run event by its type and keeps its own fields', () => {
    const step = RunEvent.parse({
      ...base,
      type: 'step.finished',
      case_id: 2,
      case_name: 'login',
      step: { name: 'open', status: 'passed', started_at: base.time, duration_ms: 12 },
    });
    expect(step.type === 'step.finished' && step.step.name).toBe('open');
  });

  it('rejects an event of another version, without a sequence number or of an unknown type', () => {
    const started = { ...base, type: 'execution.started' };
    expect(RunEvent.safeParse(started).success).toBe(true);
    expect(RunEvent.safeParse({ ...started, v: 2 }).success).toBe(false);
    expect(RunEvent.safeParse({ ...started, seq: 0 }).success).toBe(false);
    expect(RunEvent.safeParse({ ...started, type: 'execution.paused' }).success).toBe(false);
  });

  it('needs every queue state in a dashboard tick', () => {
    const tick = {
      v: 1,
      type: 'dashboard.tick',
      seq: 1,
      time: base.time,
      active_tests: 1,
      running_executions: [7],
      workers_online: 2,
      queues: { api: { waiting: 1, active: 1, delayed: 0, failed: 0, completed: 4 } },
    };
    expect(DashboardTick.safeParse(tick).success).toBe(true);
    expect(DashboardTick.safeParse({ ...tick, queues: { api: { waiting: 1 } } }).success).toBe(
      false,
    );
  });

  it('replays from the start unless told otherwise', () => {
    expect(SubscribeRun.parse({ execution_id: 7 })).toEqual({
      execution_id: 7,
      from_seq: 1,
      frames: false,
    });
  });
});
