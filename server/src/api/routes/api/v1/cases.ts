import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  CaseParams,
  CreateCaseBody,
  ListCasesQuery,
  Page,
  SuiteIdParams,
  TestCase,
  UpdateCaseBody,
  type JsonObject,
} from '@webguard/shared';
import { AppError, conflict } from '../../../../errors.js';
import { resolveDependencies } from '../../../../orchestration/workflow-graph.js';
import type { SkillRegistry } from '../../../../skills/index.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['cases'];

/**
 * The suite's workflow must stay a DAG of known names: the candidate change is applied to the
 * current cases and the whole graph checked, each problem named (400).
 */
function checkWorkflow(
  cases: TestCase[],
  candidate: Pick<TestCase, 'name' | 'group' | 'depends_on'> & { id?: number },
): void {
  const nodes = cases
    .filter((testCase) => testCase.id !== candidate.id)
    .map((testCase) => ({
      name: testCase.name,
      group: testCase.group,
      dependsOn: testCase.depends_on,
    }));
  nodes.push({ name: candidate.name, group: candidate.group, dependsOn: candidate.depends_on });
  const { problems } = resolveDependencies(nodes);
  if (problems.length > 0) {
    const details = problems.map((problem) => ({
      path: 'depends_on',
      message: `${problem.path}: ${problem.message}`,
    }));
    throw new AppError(
      400,
      'VALIDATION_FAILED',
      `invalid workflow: ${details.map((d) => d.message).join('; ')}`,
      details,
    );
  }
}

/**
 * A case is only saved when its skill exists here (in the version it pins, if it pins one) and
 * its params pass that version's schema.
 */
function checkSkillParams(
  skills: SkillRegistry,
  skillName: string,
  version: string | null | undefined,
  params: JsonObject,
): void {
  if (!skills.get(skillName)) {
    const known = skills
      .list()
      .map((skill) => skill.info.name)
      .join(', ');
    throw new AppError(
      422,
      'UNKNOWN_SKILL',
      `unknown skill "${skillName}"; installed skills: ${known || 'none'}`,
      [{ path: 'skill_name', message: 'no such skill' }],
    );
  }
  const pinned = skills.find(skillName, version);
  if (!pinned.ok)
    throw new AppError(422, 'UNKNOWN_SKILL', pinned.reason, [
      { path: 'skill_version', message: 'no installed version matches' },
    ]);
  const result = skills.validateParams(skillName, params, version);
  if (!result.ok) {
    const details = result.issues.map((issue) => ({
      path: `params.${issue.path}`,
      message: issue.message,
    }));
    throw new AppError(
      400,
      'INVALID_SKILL_PARAMS',
      `params do not fit skill "${skillName}": ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`,
      details,
    );
  }
}

const caseRoutes: FastifyPluginAsyncZod = async (app) => {
  const { suites, cases, skills, access } = app.services;

  app.get(
    '/suites/:suiteId/cases',
    {
      schema: {
        tags,
        summary: 'List the cases of a suite',
        params: SuiteIdParams,
        querystring: ListCasesQuery,
        response: { 200: Page(TestCase), 404: ApiError },
      },
    },
    async (request) => {
      await access.suite(principalOf(request), request.params.suiteId, 'viewer');
      return cases.list(request.params.suiteId, request.query);
    },
  );

  app.post(
    '/suites/:suiteId/cases',
    {
      schema: {
        tags,
        summary: 'Add a case to a suite',
        description:
          "The skill must be installed and `params` must pass the skill's params schema.",
        params: SuiteIdParams,
        body: CreateCaseBody,
        response: { 201: TestCase, 400: ApiError, 404: ApiError, 409: ApiError, 422: ApiError },
      },
    },
    async (request, reply) => {
      await access.suite(principalOf(request), request.params.suiteId, 'tester');
      await suites.get(request.params.suiteId);
      checkSkillParams(
        skills,
        request.body.skill_name,
        request.body.skill_version,
        request.body.params,
      );
      checkWorkflow(await cases.listAll(request.params.suiteId), {
        name: request.body.name,
        group: request.body.group ?? null,
        depends_on: request.body.depends_on,
      });
      return reply.code(201).send(await cases.create(request.params.suiteId, request.body));
    },
  );

  app.get(
    '/suites/:suiteId/cases/:caseId',
    {
      schema: {
        tags,
        summary: 'Get a case',
        params: CaseParams,
        response: { 200: TestCase, 404: ApiError },
      },
    },
    async (request) => {
      await access.suite(principalOf(request), request.params.suiteId, 'viewer');
      return cases.get(request.params.suiteId, request.params.caseId);
    },
  );

  app.patch(
    '/suites/:suiteId/cases/:caseId',
    {
      schema: {
        tags,
        summary: 'Change some fields of a case',
        params: CaseParams,
        body: UpdateCaseBody,
        response: { 200: TestCase, 400: ApiError, 404: ApiError, 409: ApiError, 422: ApiError },
      },
    },
    async (request) => {
      const { suiteId, caseId } = request.params;
      await access.suite(principalOf(request), suiteId, 'tester');
      const current = await cases.get(suiteId, caseId);
      const { skill_name, skill_version, params } = request.body;
      if (skill_name !== undefined || skill_version !== undefined || params !== undefined) {
        checkSkillParams(
          skills,
          skill_name ?? current.skill_name,
          skill_version === undefined ? current.skill_version : skill_version,
          params ?? current.params,
        );
      }
      const all = await cases.listAll(suiteId);
      checkWorkflow(all, {
        id: caseId,
        name: request.body.name ?? current.name,
        group: request.body.group === undefined ? current.group : request.body.group,
        depends_on: request.body.depends_on ?? current.depends_on,
      });
      // A rename would silently break cases that depend on the old name.
      if (request.body.name !== undefined && request.body.name !== current.name) {
        const dependents = all
          .filter((testCase) => testCase.depends_on.includes(current.name))
          .map((c) => c.name);
        if (dependents.length > 0) {
          throw conflict(
            `case "${current.name}" is a dependency of ${dependents.join(', ')}; update them before renaming it`,
          );
        }
      }
      return cases.update(suiteId, caseId, request.body);
    },
  );

  app.delete(
    '/suites/:suiteId/cases/:caseId',
    {
      schema: {
        tags,
        summary: 'Delete a case (its past results are kept)',
        params: CaseParams,
        response: { 204: z.null(), 404: ApiError, 409: ApiError },
      },
    },
    async (request, reply) => {
      const { suiteId, caseId } = request.params;
      await access.suite(principalOf(request), suiteId, 'tester');
      const current = await cases.get(suiteId, caseId);
      const all = await cases.listAll(suiteId);
      const dependents = all
        .filter((testCase) => testCase.id !== caseId && testCase.depends_on.includes(current.name))
        .map((testCase) => testCase.name);
      if (dependents.length > 0) {
        throw conflict(
          `case "${current.name}" is a dependency of ${dependents.join(', ')}; remove it from their depends_on first`,
        );
      }
      await cases.delete(suiteId, caseId);
      return reply.code(204).send(null);
    },
  );
};

export default caseRoutes;
