import { z } from 'zod';
import type { JsonObject } from '@webguard/shared';
import {
  ArtifactKind,
  CaseOutcome,
  CompensationRecord,
  LogEntry,
  MetricRecord,
  StepRecord,
  Timestamp,
  type CaptureMode,
} from '@webguard/shared';

/**
 * The messages between a worker and the sandbox thread that runs one case at a time for it:
 * series of tasks, run one after the other, each task reported as it goes, in order. The thread
 * posts a `FromThread` message, or several in one array (a task's ending with what follows it).
 * Both ends are this package, but a skill can post on the thread's port too, so what the
 * worker receives is checked like any other input.
 */

/** Which skill to run: the thread loads it from its file, as the worker's registry did. */
export interface SkillFileRef {
  file: string;
  name: string;
  version: string;
}

interface TaskBase {
  skill: SkillFileRef;
  params: unknown;
  caseName: string;
  executionId: number | null;
  timeoutMs: number;
  /** Values hidden in everything the case records. */
  secrets: string[];
  logLevel: string;
}

export interface RunTask extends TaskBase {
  kind: 'run';
  /** The worker's Chromium, for a browser skill. */
  browser?: {
    wsEndpoint: string;
    launch: { executablePath: string; args: string[]; headless: boolean };
    video: CaptureMode;
    trace: CaptureMode;
  };
  /** Whether the worker keeps artifacts; none means screenshots and attachments are dropped. */
  artifacts: boolean;
  /** Live frames per second, when the worker streams them. */
  framesFps?: number;
}

export interface CompensateTask extends TaskBase {
  kind: 'compensate';
  outputs: JsonObject;
}

export type SandboxTask = RunTask | CompensateTask;

/** What a sandbox thread is started with. */
export interface ThreadData {
  /**
   * Series the thread was handed and has not finished; it counts one down once it has sent the
   * last message of a series, so the worker knows it is free before it has read them all.
   */
  unfinished: Int32Array;
  /**
   * Who has each series handed over and not yet begun, so a series queued behind a thread's
   * overrunning work can be taken back without a race: its slot (`claimSlot`) holds its id
   * while it waits; the thread swaps in the negated id as it begins it, the worker swaps in 0 to
   * withdraw it, and whichever swap comes first decides. A withdrawn series is counted off
   * `unfinished` by the worker and skipped by the thread without a word.
   */
  claims: Int32Array;
}

/** Slots in `ThreadData.claims`: far more than the series a thread ever has waiting at once. */
export const CLAIM_SLOTS = 64;

/** The slot of a series in `ThreadData.claims`. */
export const claimSlot = (series: number): number => series % CLAIM_SLOTS;

export type ToThread =
  /**
   * A series of tasks to run one after the other, after those handed before; the tasks at the
   * `cancelled` positions are not started.
   */
  | { type: 'tasks'; series: number; tasks: SandboxTask[]; cancelled: number[] }
  /** Stops the series' tasks at these positions if one runs, or keeps them from starting. */
  | { type: 'cancel'; series: number; indexes: number[] }
  | { type: 'ping'; nonce: number }
  | { type: 'reply'; request: number; value?: boolean; error?: string };

const ArtifactFileMessage = z.object({
  kind: ArtifactKind,
  name: z.string(),
  contentType: z.string(),
  source: z.union([
    z.object({ body: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'bytes') }),
    z.object({ path: z.string() }),
  ]),
});

export const FromThread = z.discriminatedUnion('type', [
  z.object({ type: z.literal('log'), entry: LogEntry }),
  /** A line of the thread's own pino logger, for the worker's logger to write. */
  z.object({ type: z.literal('log-line'), line: z.string() }),
  z.object({
    type: z.literal('step-start'),
    step: z.object({ name: z.string(), started_at: Timestamp }),
  }),
  z.object({ type: z.literal('step'), step: StepRecord }),
  z.object({ type: z.literal('metric'), metric: MetricRecord }),
  z.object({ type: z.literal('artifact'), request: z.number(), file: ArtifactFileMessage }),
  z.object({ type: z.literal('watched'), request: z.number() }),
  z.object({
    type: z.literal('frame'),
    frame: z.object({ data: z.string(), width: z.number(), height: z.number() }),
  }),
  z.object({ type: z.literal('pong'), nonce: z.number() }),
  /** The thread has the skill loaded and starts it now: its limit runs from here. */
  z.object({ type: z.literal('started') }),
  z.object({ type: z.literal('outcome'), outcome: CaseOutcome }),
  /** The series' next task was cancelled before it started, so it was not. */
  z.object({ type: z.literal('not-started') }),
  z.object({ type: z.literal('compensated'), record: CompensationRecord }),
]);
export type FromThread = z.infer<typeof FromThread>;
