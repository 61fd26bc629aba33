import { z } from 'zod';
import {
  ArtifactKind,
  ErrorType,
  ExecutionStatus,
  QueueState,
  ResultStatus,
  TriggerSource,
} from '../status.js';
import { Timestamp } from './common.js';
import { LogEntry, MetricRecord, StepRecord } from './result.js';

/**
 * The live event contract: what workers publish while a run goes, what every API process relays
 * over Socket.IO, and what the desktop's local runner sends over IPC. A client that knows
 * `LIVE_EVENTS_VERSION` can render any run, from the cluster or from the local runner.
 */
export const LIVE_EVENTS_VERSION = 1;

/** Socket.IO namespace that carries live data. */
export const LIVE_NAMESPACE = '/live';

/**
 * What every run event carries. `seq` counts from 1 per execution with no gaps, so a client that
 * saw up to N asks for N + 1 onwards and gets neither a gap nor a duplicate.
 */
const RunEventBase = z.object({
  v: z.literal(LIVE_EVENTS_VERSION),
  seq: z.number().int().positive(),
  time: Timestamp,
  execution_id: z.number().int(),
});

/** Which case of the run an event belongs to; the local runner has no case ids, so 0. */
const CaseRef = {
  case_id: z.number().int().min(0),
  case_name: z.string(),
};

export const ExecutionQueuedEvent = RunEventBase.extend({
  type: z.literal('execution.queued'),
  suite_id: z.number().int().nullable(),
  suite_name: z.string(),
  total_tests: z.number().int().min(0),
  triggered_by: TriggerSource.or(z.literal('local')),
});

export const ExecutionStartedEvent = RunEventBase.extend({
  type: z.literal('execution.started'),
});

export const ExecutionFinishedEvent = RunEventBase.extend({
  type: z.literal('execution.finished'),
  status: ExecutionStatus,
  total_tests: z.number().int().min(0),
  passed_tests: z.number().int().min(0),
  failed_tests: z.number().int().min(0),
  skipped_tests: z.number().int().min(0),
  duration_ms: z.number().int().min(0).nullable(),
});

export const CaseQueuedEvent = RunEventBase.extend({
  type: z.literal('case.queued'),
  ...CaseRef,
  skill_name: z.string(),
  attempt: z.number().int().min(1),
});

export const CaseStartedEvent = RunEventBase.extend({
  type: z.literal('case.started'),
  ...CaseRef,
  skill_name: z.string(),
  attempt: z.number().int().min(1),
});

export const CaseFinishedEvent = RunEventBase.extend({
  type: z.literal('case.finished'),
  ...CaseRef,
  status: ResultStatus,
  error_type: ErrorType.nullable(),
  error_message: z.string().nullable(),
  duration_ms: z.number().int().min(0),
  attempt: z.number().int().min(1),
  /** True when this attempt failed and another one is coming. */
  will_retry: z.boolean(),
  /** The stored result (null for the local runner and for attempts that will be retried). */
  result_id: z.number().int().nullable(),
});

export const StepStartedEvent = RunEventBase.extend({
  type: z.literal('step.started'),
  ...CaseRef,
  name: z.string(),
});

export const StepFinishedEvent = RunEventBase.extend({
  type: z.literal('step.finished'),
  ...CaseRef,
  step: StepRecord,
});

export const LogEvent = RunEventBase.extend({
  type: z.literal('log'),
  ...CaseRef,
  entry: LogEntry,
});

export const MetricEvent = RunEventBase.extend({
  type: z.literal('metric'),
  ...CaseRef,
  metric: MetricRecord,
});

export const ArtifactAddedEvent = RunEventBase.extend({
  type: z.literal('artifact.added'),
  ...CaseRef,
  artifact: z.object({
    /** The stored artifact, when it is stored yet (cluster); null in the local runner. */
    id: z.number().int().nullable(),
    kind: ArtifactKind,
    name: z.string(),
    content_type: z.string(),
    size_bytes: z.number().int().min(0),
    /** Where to fetch it: an API path on the cluster, a local file URL in the local runner. */
    url: z.string(),
  }),
});

/** Everything that happens in a run, in order; kept for late joiners, unlike frames. */
export const RunEvent = z.discriminatedUnion('type', [
  ExecutionQueuedEvent,
  ExecutionStartedEvent,
  ExecutionFinishedEvent,
  CaseQueuedEvent,
  CaseStartedEvent,
  CaseFinishedEvent,
  StepStartedEvent,
  StepFinishedEvent,
  LogEvent,
  MetricEvent,
  ArtifactAddedEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];
/** A run event as a publisher hands it over, before the stream gives it its `seq`. */
export type RunEventDraft = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, 'seq' | 'v' | 'time'> & { time?: string }
    : never
  : never;

/**
 * One JPEG frame of a running page (CDP screencast). Frames are ephemeral: sent only while
 * someone watches, dropped rather than queued, never replayed; `frame` counts per case.
 */
export const BrowserFrame = z.object({
  v: z.literal(LIVE_EVENTS_VERSION),
  type: z.literal('browser.frame'),
  execution_id: z.number().int(),
  ...CaseRef,
  frame: z.number().int().positive(),
  time: Timestamp,
  /** Base64 JPEG. */
  data: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
});
export type BrowserFrame = z.infer<typeof BrowserFrame>;

/** Jobs of one queue by state. */
export const QueueDepth = z.record(QueueState, z.number().int().min(0));
export type QueueDepth = z.infer<typeof QueueDepth>;

/** The dashboard room's periodic picture of the cluster. */
export const DashboardTick = z.object({
  v: z.literal(LIVE_EVENTS_VERSION),
  type: z.literal('dashboard.tick'),
  seq: z.number().int().positive(),
  time: Timestamp,
  active_tests: z.number().int().min(0),
  running_executions: z.array(z.number().int()),
  queues: z.record(z.string(), QueueDepth),
  workers_online: z.number().int().min(0),
});
export type DashboardTick = z.infer<typeof DashboardTick>;

/** Client → server: watch a run, replaying from `from_seq` (default 1: everything). */
export const SubscribeRun = z.object({
  execution_id: z.number().int().positive(),
  from_seq: z.number().int().positive().default(1),
  /** Ask for live browser frames of this run (they flow only while someone asks). */
  frames: z.boolean().default(false),
});
export type SubscribeRun = z.input<typeof SubscribeRun>;

export const UnsubscribeRun = z.object({ execution_id: z.number().int().positive() });
export type UnsubscribeRun = z.infer<typeof UnsubscribeRun>;

/** Acknowledgement of a (un)subscribe: ok, or why not, in words a person can act on. */
export const LiveAck = z.union([
  z.object({ ok: z.literal(true), last_seq: z.number().int().min(0) }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type LiveAck = z.infer<typeof LiveAck>;

/** Typed Socket.IO maps for the live namespace, used by the server and by every client. */
export interface LiveServerToClientEvents {
  'run:event': (event: RunEvent) => void;
  'run:frame': (frame: BrowserFrame) => void;
  'dashboard:tick': (tick: DashboardTick) => void;
}

export interface LiveClientToServerEvents {
  'run:subscribe': (request: SubscribeRun, ack: (result: LiveAck) => void) => void;
  'run:unsubscribe': (request: UnsubscribeRun, ack: (result: LiveAck) => void) => void;
  'dashboard:subscribe': (ack: (result: LiveAck) => void) => void;
  'dashboard:unsubscribe': (ack: (result: LiveAck) => void) => void;
}
