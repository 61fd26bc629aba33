import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  MAX_LOG_ENTRIES,
  MetricRecord,
  SkillError,
  expect,
  type HttpClient,
  type JsonObject,
  type LogEntry,
  type LogLevel,
  type SkillContext,
  type SkillLogger,
  type StepRecord,
} from '@webguard/shared';
import { caseCapabilities, type CaseCapabilities } from './artifact-sink.js';
import { classifyError } from './classify-error.js';
import { maskJson } from './masking.js';
import { toJsonObject } from './to-json-object.js';

/** Live listeners for what a case records; the worker publishes these, the desktop shows them. */
export interface CaseListeners {
  onLog?: (entry: LogEntry) => void;
  /** A step began (its name already masked); `onStep` follows when it ends. */
  onStepStart?: (step: { name: string; started_at: string }) => void;
  onStep?: (step: StepRecord) => void;
  onMetric?: (metric: MetricRecord) => void;
}

export interface SkillContextOptions extends CaseListeners {
  executionId: number | null;
  caseName: string;
  /** Aborted at the case's deadline or on cancel. */
  signal: AbortSignal;
  http: HttpClient;
  /** Receives the skill's log lines too, already bound to the execution and case. */
  logger?: Logger;
  /** Hides secret values in everything recorded, before it is kept, logged or streamed. */
  mask?: (text: string) => string;
  /** The page and artifact calls of the case; without them screenshots fail, attachments drop. */
  capabilities?: CaseCapabilities;
}

/** What a case recorded, in the shape `CaseOutcome` keeps. */
export interface CaseRecord {
  steps: StepRecord[];
  metrics: MetricRecord[];
  logs: LogEntry[];
}

export interface SkillContextHandle {
  context: SkillContext;
  /**
   * Stops recording and returns what was recorded. Steps still running are recorded as failed
   * with `interruption` (e.g. the timeout message). Later calls from a skill that ignored its
   * signal are dropped, and its next `step` throws.
   */
  finish(interruption?: string): CaseRecord;
}

/** Calls a listener without letting its failure (say, a lost Redis connection) fail the case. */
function notify<T>(
  listener: ((value: T) => void) | undefined,
  value: T,
  logger: Logger | undefined,
): void {
  if (!listener) return;
  try {
    listener(value);
  } catch (error) {
    logger?.warn({ err: error }, 'a case listener threw; the case goes on');
  }
}

export function createSkillContext(options: SkillContextOptions): SkillContextHandle {
  const { logger, signal } = options;
  const mask = options.mask ?? ((text: string) => text);
  const record: CaseRecord = { steps: [], metrics: [], logs: [] };
  const openSteps = new Map<symbol, { name: string; startedAt: string; start: number }>();
  let droppedLogs = 0;
  let finished = false;

  const write = (level: LogLevel, message: string, data?: JsonObject): void => {
    if (finished) return;
    const entry: LogEntry = {
      time: new Date().toISOString(),
      level,
      message: mask(String(message)),
    };
    if (data !== undefined) {
      const json = toJsonObject(data);
      entry.data = maskJson(json.ok ? json.value : { unserializable: json.reason }, mask);
    }
    // The last slot is kept for the line saying how many were dropped.
    if (record.logs.length < MAX_LOG_ENTRIES - 1) record.logs.push(entry);
    else droppedLogs++;
    logger?.[level]({ source: 'skill', data: entry.data }, entry.message);
    notify(options.onLog, entry, logger);
  };
  const log: SkillLogger = {
    debug: (message, data) => write('debug', message, data),
    info: (message, data) => write('info', message, data),
    warn: (message, data) => write('warn', message, data),
    error: (message, data) => write('error', message, data),
  };

  const endStep = (id: symbol, status: StepRecord['status'], error?: string): void => {
    const open = openSteps.get(id);
    if (!open || finished) return;
    openSteps.delete(id);
    const step: StepRecord = {
      name: mask(open.name),
      status,
      started_at: open.startedAt,
      duration_ms: Math.round(performance.now() - open.start),
      ...(error === undefined ? {} : { error: mask(error) }),
    };
    record.steps.push(step);
    notify(options.onStep, step, logger);
  };

  const context: SkillContext = {
    log,
    async step<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
      if (finished)
        throw signal.aborted
          ? signal.reason
          : new SkillError('system', `step "${name}" started after the case ended`);
      const id = Symbol(name);
      const startedAt = new Date().toISOString();
      openSteps.set(id, { name, startedAt, start: performance.now() });
      notify(options.onStepStart, { name: mask(name), started_at: startedAt }, logger);
      try {
        const value = await fn();
        endStep(id, 'passed');
        return value;
      } catch (error) {
        endStep(id, 'failed', classifyError(error).message);
        throw error;
      }
    },
    expect,
    metric(name, value, unit) {
      const parsed = MetricRecord.safeParse({ name, value, unit: unit ?? null });
      if (!parsed.success) {
        const reasons = parsed.error.issues.map(
          (issue) => `${issue.path.join('.') || 'metric'}: ${issue.message}`,
        );
        throw new SkillError(
          'system',
          `metric ${JSON.stringify(name)} is invalid: ${reasons.join('; ')}`,
        );
      }
      if (finished) return;
      record.metrics.push(parsed.data);
      notify(options.onMetric, parsed.data, logger);
    },
    signal,
    http: options.http,
    run: { executionId: options.executionId, caseName: options.caseName },
    ...(options.capabilities ?? caseCapabilities({ logger })),
  };

  return {
    context,
    finish(interruption) {
      for (const id of openSteps.keys())
        endStep(id, 'failed', interruption ?? 'the case ended before the step finished');
      if (droppedLogs > 0) {
        record.logs.push({
          time: new Date().toISOString(),
          level: 'warn',
          message: `${droppedLogs} more log lines were not kept (a case keeps at most ${MAX_LOG_ENTRIES})`,
        });
      }
      finished = true;
      return record;
    },
  };
}
