import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineSkill, SkillDefinitionShape } from '../sdk/define-skill.js';
import { CreateCaseBody } from './case.js';
import { Id, PaginationQuery } from './common.js';
import { ListExecutionsQuery, TriggerExecutionBody } from './execution.js';
import { CaseOutcome } from './result.js';
import { CreateSuiteBody, UpdateSuiteBody } from './suite.js';

const paths = (result: z.ZodSafeParseResult<unknown>) =>
  result.success ? [] : result.error.issues.map((issue) => issue.path.join('.'));

describe('suite payloads', () => {
  it('fills the design defaults', () => {
    expect(CreateSuiteBody.parse({ name: '  smoke ' })).toEqual({
      name: 'smoke',
      enabled: true,
      max_concurrent_tests: 5,
      timeout_minutes: 60,
      retry_on_failure: true,
      stop_on_error: false,
    });
  });

  it('rejects unknown fields, empty names and out-of-range limits', () => {
    expect(
      paths(CreateSuiteBody.safeParse({ name: '', max_concurrent_tests: 0, extra: 1 })),
    ).toEqual(expect.arrayContaining(['name', 'max_concurrent_tests', '']));
    expect(CreateSuiteBody.safeParse({ name: 'a/b' }).success).toBe(false);
  });

  it('requires at least one field in an update', () => {
    expect(UpdateSuiteBody.safeParse({}).success).toBe(false);
    expect(UpdateSuiteBody.parse({ enabled: false })).toEqual({ enabled: false });
  });
});

describe('case payloads', () => {
  it('defaults params, priority and timeout and checks the skill name', () => {
    expect(CreateCaseBody.parse({ name: 'home', skill_name: 'http-check' })).toMatchObject({
      params: {},
      priority: 0,
      timeout_seconds: 300,
      enabled: true,
    });
    expect(paths(CreateCaseBody.safeParse({ name: 'home', skill_name: 'Http Check' }))).toEqual([
      'skill_name',
    ]);
    expect(
      paths(CreateCaseBody.safeParse({ name: 'x', skill_name: 'a', params: { f: () => 1 } })),
    ).toEqual(['params.f']);
  });
});

describe('trigger payload', () => {
  it('takes exactly one of suite_id and suite_name', () => {
    expect(TriggerExecutionBody.parse({ suite_id: 3 })).toEqual({
      suite_id: 3,
      triggered_by: 'api',
    });
    expect(TriggerExecutionBody.safeParse({}).success).toBe(false);
    expect(TriggerExecutionBody.safeParse({ suite_id: 1, suite_name: 'x' }).success).toBe(false);
  });

  it('validates CI fields', () => {
    expect(
      paths(TriggerExecutionBody.safeParse({ suite_id: 1, ci_commit_sha: 'not-hex!' })),
    ).toEqual(['ci_commit_sha']);
    expect(paths(TriggerExecutionBody.safeParse({ suite_id: 1, triggered_by: 'robot' }))).toEqual([
      'triggered_by',
    ]);
  });
});

describe('query strings', () => {
  it('coerces and bounds pagination', () => {
    expect(PaginationQuery.parse({})).toEqual({ limit: 50, offset: 0 });
    expect(PaginationQuery.parse({ limit: '10', offset: '20' })).toEqual({ limit: 10, offset: 20 });
    expect(PaginationQuery.safeParse({ limit: '0' }).success).toBe(false);
    expect(Id.safeParse('12abc').success).toBe(false);
  });

  it('validates execution filters', () => {
    expect(
      ListExecutionsQuery.parse({ status: 'failed', since: '2026-01-01T00:00:00Z' }),
    ).toMatchObject({ status: 'failed' });
    expect(paths(ListExecutionsQuery.safeParse({ status: 'exploded' }))).toEqual(['status']);
  });
});

describe('case outcome', () => {
  it('accepts what the engine produces and bounds the log', () => {
    const outcome = {
      status: 'passed',
      error_type: null,
      error_message: null,
      stack_trace: null,
      started_at: '2026-11-23T10:00:00.000Z',
      completed_at: '2026-11-23T10:00:01.000Z',
      execution_time_ms: 1000,
      steps: [],
      metrics: [{ name: 'response_time', value: 12, unit: 'ms' }],
      logs: [],
      outputs: {},
    };
    expect(CaseOutcome.parse(outcome)).toEqual(outcome);
    expect(
      CaseOutcome.safeParse({ ...outcome, metrics: [{ name: 'x', value: Infinity, unit: null }] })
        .success,
    ).toBe(false);
  });
});

describe('skill definitions', () => {
  const good = defineSkill({
    name: 'demo',
    category: 'api',
    version: '1.0.0',
    description: 'demo skill',
    params: z.object({ url: z.string() }),
    run: (_ctx, params) => ({ url: params.url }),
  });

  it('accepts a complete definition', () => {
    expect(SkillDefinitionShape.safeParse(good).success).toBe(true);
  });

  it('names each broken field', () => {
    const broken = {
      ...good,
      name: 'Demo Skill',
      category: 'ui',
      version: 'one',
      params: { type: 'object' },
      run: 'no',
    };
    expect(paths(SkillDefinitionShape.safeParse(broken)).sort()).toEqual([
      'category',
      'name',
      'params',
      'run',
      'version',
    ]);
  });
});
