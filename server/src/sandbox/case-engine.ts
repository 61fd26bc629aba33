import type { Logger } from 'pino';
import type {
  CaseOutcome,
  CompensationRecord,
  JsonObject,
  SkillDefinition,
} from '@webguard/shared';
import type { BrowserPool, FrameSink } from '../engine/browser/index.js';
import {
  createMasker,
  runCase,
  runCompensation,
  type ArtifactSink,
  type CaseListeners,
} from '../engine/index.js';

/** A skill as the registry loaded it: its definition, and the file it came from. */
export interface SkillSource {
  definition: SkillDefinition;
  file: string;
}

export interface EngineCaseInput extends CaseListeners {
  skill: SkillSource;
  /** Unvalidated: the engine checks them against the skill's schema. */
  params: unknown;
  caseName: string;
  executionId: number | null;
  timeoutMs: number;
  /** Aborting it cancels the case. */
  signal?: AbortSignal;
  logger: Logger;
  /** Values hidden in everything the case records. */
  secrets: string[];
  artifacts?: ArtifactSink;
  frames?: FrameSink;
  /** The case starts now: what comes before (waiting its turn) was not its time. */
  onStart?: () => void;
  /** How long the case took in its recent runs, in ms; undefined when it has no history. */
  expectedMs?: number | undefined;
}

export interface EngineCompensationInput {
  skill: SkillSource;
  params: unknown;
  outputs: JsonObject;
  caseName: string;
  executionId: number | null;
  timeoutMs: number;
  logger: Logger;
  secrets: string[];
}

/** How a worker runs skill code: cases, and compensations of cases after their run failed. */
export interface CaseEngine {
  run(input: EngineCaseInput): Promise<CaseOutcome>;
  /**
   * Runs cases one after the other, as one piece of work for the engine. A case whose signal is
   * aborted before its turn does not start: its entry is undefined.
   */
  runSeries(inputs: readonly EngineCaseInput[]): Promise<(CaseOutcome | undefined)[]>;
  compensate(input: EngineCompensationInput): Promise<CompensationRecord>;
  close(): Promise<void>;
}

/**
 * Runs skills in the worker's own thread (`WEBGUARD_SKILL_ISOLATION=none`): cheapest, and a
 * debugger attached to the worker stops in skill code, but a skill that never yields or
 * exhausts memory takes the worker down with it.
 */
export class InProcessEngine implements CaseEngine {
  constructor(private readonly browsers: BrowserPool | undefined) {}

  run({ skill, secrets, onStart, ...input }: EngineCaseInput): Promise<CaseOutcome> {
    onStart?.();
    return runCase({
      ...input,
      skill: skill.definition,
      mask: createMasker(secrets),
      browsers: this.browsers,
    });
  }

  async runSeries(inputs: readonly EngineCaseInput[]): Promise<(CaseOutcome | undefined)[]> {
    const outcomes: (CaseOutcome | undefined)[] = [];
    for (const input of inputs) {
      outcomes.push(input.signal?.aborted ? undefined : await this.run(input));
    }
    return outcomes;
  }

  compensate({ skill, secrets, ...input }: EngineCompensationInput): Promise<CompensationRecord> {
    return runCompensation({ ...input, skill: skill.definition, mask: createMasker(secrets) });
  }

  async close(): Promise<void> {
    await this.browsers?.close();
  }
}
