import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AllureReportJson,
  AllureReportQuery,
  ApiError,
  ExecutionComparison,
  FailureGroupList,
  FailureGroupsQuery,
  FlakyList,
  FlakyQuery,
  IdParams,
  SuiteStatisticsList,
  TrendsQuery,
  TrendsResponse,
  type ExecutionWithResults,
  type JsonValue,
} from '@webguard/shared';
import { visibleProjects, type Principal } from '../../../../auth/index.js';
import { AppError } from '../../../../errors.js';
import {
  allureZip,
  groupFailures,
  toAllure,
  toJUnitXml,
  type ReportArtifact,
} from '../../../../reports/index.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['reports'];

/** A download the JSON response schema does not describe, so it is sent past it. */
const sendZip = (reply: FastifyReply, zip: Readable, fileName: string) =>
  reply
    .type('application/zip')
    .header('content-disposition', `attachment; filename="${fileName}"`)
    .send(zip);

const reportRoutes: FastifyPluginAsyncZod = async (app) => {
  const { access, executions, reports, artifacts } = app.services;

  /** The run and its failed cases' artifacts as links on this server. */
  async function reportInput(principal: Principal, id: number, base: string) {
    await access.execution(principal, id, 'viewer');
    const execution: ExecutionWithResults = await executions.getWithResults(id);
    const links = new Map<number, ReportArtifact[]>();
    for (const result of execution.results) {
      if (result.status === 'passed' || result.status === 'skipped') continue;
      const files = await artifacts.listForResult(result.id);
      links.set(
        result.id,
        files.map((file) => ({
          id: file.id,
          name: file.name,
          kind: file.kind,
          url: `${base}/api/v1/artifacts/${file.id}`,
        })),
      );
    }
    return { execution, links };
  }

  /** Trends and rankings of one suite must not reveal a suite the caller cannot see. */
  async function scope(principal: Principal, suiteId: number | undefined) {
    if (suiteId !== undefined) await access.suite(principal, suiteId, 'viewer');
    return visibleProjects(principal);
  }

  app.get(
    '/executions/:id/report/junit',
    {
      schema: {
        tags,
        summary: 'The execution as a JUnit XML report',
        params: IdParams,
        produces: ['application/xml'],
        response: { 200: z.string(), 404: ApiError },
      },
    },
    async (request, reply) => {
      const base = `${request.protocol}://${request.host}`;
      const { execution, links } = await reportInput(principalOf(request), request.params.id, base);
      return reply
        .type('application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="webguard-${execution.id}.xml"`)
        .serializer((payload: unknown) => payload as string)
        .send(toJUnitXml(execution, { artifacts: links }));
    },
  );

  app.get(
    '/executions/:id/report/allure',
    {
      schema: {
        tags,
        summary: 'The execution as Allure results: JSON, or a zip for `allure generate`',
        description:
          'JSON: write each of `results` to `<uuid>-result.json`, each of `containers` to `<uuid>-container.json`, each attachment to its `source` (inline `content`, or fetched from `url` with your token) and `environment` to environment.properties. With `?format=zip` or `Accept: application/zip`: all those files, attachments included, in one zip (streamed): unzip it into a folder and run `allure generate <folder>`.',
        params: IdParams,
        querystring: AllureReportQuery,
        produces: ['application/json', 'application/zip'],
        response: { 200: AllureReportJson, 404: ApiError },
      },
    },
    async (request, reply) => {
      const base = `${request.protocol}://${request.host}`;
      const { execution, links } = await reportInput(principalOf(request), request.params.id, base);
      const allure = toAllure(execution, links);
      const zip =
        request.query.format === 'zip' ||
        (request.query.format === undefined &&
          /\bapplication\/zip\b/i.test(request.headers.accept ?? ''));
      if (!zip)
        return {
          ...allure,
          results: allure.results as unknown as Record<string, JsonValue>[],
          containers: allure.containers as unknown as Record<string, JsonValue>[],
        };
      const stream = allureZip(allure, async (artifactId) => {
        try {
          return (await artifacts.open(artifactId)).body;
        } catch (error) {
          if (error instanceof AppError && error.statusCode === 404) return undefined;
          throw error;
        }
      });
      return sendZip(reply, stream, `webguard-${execution.id}-allure-results.zip`);
    },
  );

  app.get(
    '/executions/:id/compare',
    {
      schema: {
        tags,
        summary:
          'What newly fails, what was fixed and what still fails since the previous run on the same branch',
        params: IdParams,
        response: { 200: ExecutionComparison, 404: ApiError },
      },
    },
    async (request) => {
      await access.execution(principalOf(request), request.params.id, 'viewer');
      return reports.compare(request.params.id);
    },
  );

  app.get(
    '/reports/statistics',
    {
      schema: {
        tags,
        summary: 'Per-suite statistics over the last 30 days (pass rate, average time, last run)',
        response: { 200: SuiteStatisticsList },
      },
    },
    async (request) => ({
      items: await reports.statistics(visibleProjects(principalOf(request))),
    }),
  );

  app.get(
    '/reports/trends',
    {
      schema: {
        tags,
        summary: 'Daily pass rate, P50/P95 duration and counts, per suite or overall',
        querystring: TrendsQuery,
        response: { 200: TrendsResponse, 404: ApiError },
      },
    },
    async (request) =>
      reports.trends(request.query, await scope(principalOf(request), request.query.suite_id)),
  );

  app.get(
    '/reports/failures',
    {
      schema: {
        tags,
        summary: 'Top errors: failures grouped by normalized message, with the cases they hit',
        querystring: FailureGroupsQuery,
        response: { 200: FailureGroupList, 404: ApiError },
      },
    },
    async (request) => ({
      days: request.query.days,
      items: groupFailures(
        await reports.failures(
          request.query,
          await scope(principalOf(request), request.query.suite_id),
        ),
        request.query.limit,
      ),
    }),
  );

  app.get(
    '/reports/flaky',
    {
      schema: {
        tags,
        summary: 'The flakiest cases: passed only after a retry, or flipping on one branch',
        querystring: FlakyQuery,
        response: { 200: FlakyList, 404: ApiError },
      },
    },
    async (request) => ({
      days: request.query.days,
      items: await reports.flaky(
        request.query,
        await scope(principalOf(request), request.query.suite_id),
      ),
    }),
  );
};

export default reportRoutes;
