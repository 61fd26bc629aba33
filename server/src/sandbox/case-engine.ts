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

  run({ skill, secrets, ...input }: EngineCaseInput): Promise<CaseOutcome> {
    return runCase({
      ...input,
      skill: skill.definition,
      mask: createMasker(secrets),
      browsers: this.browsers,
    });
  }

  compensate({ skill, secrets, ...input }: EngineCompensationInput): Promise<CompensationRecord> {
    return runCompensation({ ...input, skill: skill.definition, mask: createMasker(secrets) });
  }

  async close(): Promise<void> {
    await this.browsers?.close();
  }
}
