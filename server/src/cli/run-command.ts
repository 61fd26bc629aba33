import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  ApiError,
  ArtifactList,
  ExecutionCaseList,
  ExecutionWithResults,
  FINAL_EXECUTION_STATUSES,
  TriggerExecutionResponse,
  type ExecutionStatus,
  type TestResult,
  type TriggerExecutionBody,
} from '@webguard/shared';
import type { z } from 'zod';
import { toAllure, toJUnitXml, toSummaryMarkdown, type ReportArtifact } from '../reports/index.js';
import { LiveBlock, progressState, renderProgress } from './progress-display.js';

/** The exit-code contract of `webguard run`, documented in the README and docs/ci.md. */
export const RUN_EXIT = {
  passed: 0,
  testsFailed: 1,
  usage: 2,
  infrastructure: 3,
  gateFailed: 4,
  nothingToRun: 5,
} as const;

/** A failure that ends the command with its own exit code and one line a person can act on. */
class RunFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RunOptions {
  suite: string;
  project?: number;
  server: string;
  token: string;
  wait: boolean;
  timeout: number;
  interval: number;
  junit?: string;
  allure?: string;
  json?: string;
  summaryMd?: string;
  commit?: string;
  branch?: string;
  environment?: string;
}

const TRIGGER_PATH = '/api/v1/executions';

const FINAL = new Set<ExecutionStatus>(FINAL_EXECUTION_STATUSES);

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 7 * 86_400)
    throw new InvalidArgumentError('must be a number of seconds above 0');
  return seconds;
}

function parseProjectId(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new InvalidArgumentError('must be a project id (a whole number above 0)');
  return id;
}

function parseServer(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return url.toString().replace(/\/+$/, '');
  } catch {
    throw new InvalidArgumentError('must be the server URL, e.g. https://webguard.example.com');
  }
}

/** Talks to the WebGuard API with a token, checking every answer against the shared schemas. */
class ApiClient {
  constructor(
    private readonly server: string,
    private readonly token: string,
  ) {}

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.server}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new RunFailure(
        RUN_EXIT.infrastructure,
        `cannot reach the WebGuard server at ${this.server} (${reason}); check --server and that it is running`,
      );
    }
  }

  /** Parses a 2xx body with `schema`; maps every other answer to an exit code and a message. */
  async call<T extends z.ZodType>(
    schema: T,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<z.infer<T>> {
    const response = await this.send(method, path, body);
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = undefined;
    }
    if (!response.ok) throw this.failure(response.status, path, json, text);
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new RunFailure(
        RUN_EXIT.infrastructure,
        `the server at ${this.server} answered ${method} ${path} with something that is not a WebGuard response (is --server right, and the same version?)`,
      );
    return parsed.data;
  }

  private failure(status: number, path: string, json: unknown, text: string): RunFailure {
    const apiError = ApiError.safeParse(json);
    const message = apiError.success ? apiError.data.error.message : text.slice(0, 200);
    const code = apiError.success ? apiError.data.error.code : undefined;
    if (status === 401)
      return new RunFailure(
        RUN_EXIT.usage,
        `the server refused the token (401: ${message}); check --token or WEBGUARD_TOKEN`,
      );
    if (status === 403)
      return new RunFailure(RUN_EXIT.usage, `the token may not do this (403: ${message})`);
    if (status === 404 && path === TRIGGER_PATH)
      return new RunFailure(RUN_EXIT.nothingToRun, `nothing to run: ${message}`);
    if (status === 422 && code === 'SUITE_EMPTY')
      return new RunFailure(RUN_EXIT.nothingToRun, `nothing to run: ${message}`);
    if (status === 429 || status >= 500)
      return new RunFailure(
        RUN_EXIT.infrastructure,
        `the server could not do it (${status}: ${message})`,
      );
    return new RunFailure(RUN_EXIT.usage, `the server refused the request (${status}: ${message})`);
  }

  async download(path: string): Promise<Buffer> {
    const response = await this.send('GET', path);
    if (!response.ok)
      throw new RunFailure(
        RUN_EXIT.infrastructure,
        `downloading ${path} failed (${response.status})`,
      );
    return Buffer.from(await response.arrayBuffer());
  }
}

const duration = (ms: number | null) =>
  ms === null ? '' : ms < 1000 ? ` (${ms} ms)` : ` (${(ms / 1000).toFixed(1)} s)`;

function resultLine(result: TestResult): string {
  const mark = result.status === 'passed' ? '✓' : result.status === 'skipped' ? '-' : '✗';
  const detail =
    result.status === 'passed' || !result.error_message
      ? ''
      : ` — ${result.status}: ${result.error_message.split('\n')[0]}`;
  const flaky = result.flaky ? ` [flaky: passed after ${result.retry_count} retries]` : '';
  return `  ${mark} ${result.test_name}${duration(result.execution_time_ms)}${detail}${flaky}`;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

/** The exit code an execution's final status (and its quality gate) means. */
export function exitCodeFor(status: ExecutionStatus, gatePassed = true): number {
  if (status === 'passed') return gatePassed ? RUN_EXIT.passed : RUN_EXIT.gateFailed;
  if (status === 'failed' || status === 'timeout') return RUN_EXIT.testsFailed;
  if (status === 'skipped') return RUN_EXIT.nothingToRun;
  return RUN_EXIT.infrastructure;
}

async function artifactsOf(
  api: ApiClient,
  server: string,
  execution: ExecutionWithResults,
): Promise<Map<number, ReportArtifact[]>> {
  const byResult = new Map<number, ReportArtifact[]>();
  // Only what did not pass: that is what a reader opens, and it keeps the calls few.
  for (const result of execution.results.filter(
    (r) => r.status !== 'passed' && r.status !== 'skipped',
  )) {
    const list = await api.call(ArtifactList, 'GET', `/api/v1/results/${result.id}/artifacts`);
    byResult.set(
      result.id,
      list.items.map((artifact) => ({
        id: artifact.id,
        name: artifact.name,
        kind: artifact.kind,
        url: `${server}/api/v1/artifacts/${artifact.id}`,
      })),
    );
  }
  return byResult;
}

async function writeReports(
  api: ApiClient,
  options: RunOptions,
  execution: ExecutionWithResults,
): Promise<void> {
  const wanted = options.junit || options.allure || options.summaryMd;
  const artifacts = wanted ? await artifactsOf(api, options.server, execution) : new Map();
  const write = async (file: string, content: string | Buffer) => {
    await mkdir(dirname(resolve(file)), { recursive: true });
    await writeFile(file, content);
  };
  if (options.json) {
    await write(options.json, `${JSON.stringify(execution, null, 2)}\n`);
    out(`wrote ${options.json}`);
  }
  if (options.junit) {
    await write(options.junit, toJUnitXml(execution, { artifacts }));
    out(`wrote ${options.junit}`);
  }
  if (options.summaryMd) {
    await write(options.summaryMd, toSummaryMarkdown(execution));
    out(`wrote ${options.summaryMd}`);
  }
  if (options.allure) {
    const { results, containers, attachments, environment } = toAllure(execution, artifacts);
    await mkdir(options.allure, { recursive: true });
    for (const result of results)
      await write(join(options.allure, `${result.uuid}-result.json`), JSON.stringify(result));
    for (const container of containers)
      await write(
        join(options.allure, `${container.uuid}-container.json`),
        JSON.stringify(container),
      );
    for (const attachment of attachments) {
      const content = attachment.content ?? (await api.download(new URL(attachment.url!).pathname));
      await write(join(options.allure, attachment.source), content);
    }
    await write(join(options.allure, 'environment.properties'), environment);
    out(`wrote ${results.length} Allure results to ${options.allure}`);
  }
}

/**
 * 1. Trigger the suite; 2. unless told not to wait, poll until the run ends, printing each case
 * as it finishes (on a terminal, below them, one status block redrawn in place; in CI logs, a
 * progress line when it changes); 3. write the reports asked for; 4. exit with the code the
 * result means.
 */
export async function runSuite(options: RunOptions): Promise<number> {
  const api = new ApiClient(options.server, options.token);
  const target: Pick<TriggerExecutionBody, 'suite_id' | 'suite_name' | 'project_id'> = /^\d+$/.test(
    options.suite,
  )
    ? { suite_id: Number(options.suite) }
    : {
        suite_name: options.suite,
        ...(options.project === undefined ? {} : { project_id: options.project }),
      };
  const trigger = await api.call(TriggerExecutionResponse, 'POST', TRIGGER_PATH, {
    ...target,
    triggered_by: 'ci',
    ...(options.commit ? { ci_commit_sha: options.commit } : {}),
    ...(options.branch ? { ci_branch: options.branch } : {}),
    ...(options.environment ? { environment: options.environment } : {}),
  });
  const id = trigger.execution_id;
  out(
    `execution #${id} of suite ${options.suite}: ${trigger.total_tests} cases, ${trigger.status}`,
  );
  const wait =
    options.wait || Boolean(options.junit || options.allure || options.json || options.summaryMd);
  if (!wait) return RUN_EXIT.passed;

  const started = Date.now();
  const deadline = started + options.timeout * 1000;
  const printed = new Set<number>();
  const live = process.stdout.isTTY ? new LiveBlock(process.stdout) : undefined;
  let lastProgress = '';
  let transientFailures = 0;
  for (;;) {
    let execution: ExecutionWithResults;
    try {
      execution = await api.call(ExecutionWithResults, 'GET', `/api/v1/executions/${id}`);
      transientFailures = 0;
    } catch (error) {
      // A server restarting under a load balancer is not a failed run: retry a few times.
      if (
        !(error instanceof RunFailure) ||
        error.exitCode !== RUN_EXIT.infrastructure ||
        ++transientFailures > 5
      )
        throw error;
      await sleep(options.interval * 1000);
      continue;
    }
    for (const result of execution.results) {
      if (printed.has(result.id)) continue;
      printed.add(result.id);
      if (live) live.print(resultLine(result));
      else out(resultLine(result));
    }
    const elapsed = Math.round((Date.now() - started) / 1000);
    const done = execution.results.length;
    const progress = `${execution.status} ${done}/${execution.total_tests} done, ${execution.passed_tests} passed, ${execution.failed_tests} failed, ${execution.skipped_tests} skipped`;
    const final = FINAL.has(execution.status);
    if (live && !final) {
      // Which cases run now is for the eyes only: without it the block still shows the counts.
      const cases = await api
        .call(ExecutionCaseList, 'GET', `/api/v1/executions/${id}/cases`)
        .then((list) => list.items)
        .catch(() => undefined);
      const state = progressState(execution, cases, Date.now() - started, Date.now());
      live.update(renderProgress(state, process.stdout.columns || 80));
    } else if (progress !== lastProgress) {
      live?.clear();
      out(`[${String(elapsed).padStart(4)}s] #${id} ${progress}`);
      lastProgress = progress;
    }
    if (final) {
      if (execution.error_message) out(`  ${execution.error_message}`);
      const gate = execution.quality_gate;
      if (gate) {
        out(`quality gate ${gate.passed ? 'passed' : 'FAILED'}:`);
        for (const rule of gate.rules)
          out(
            `  ${rule.passed ? '✓' : '✗'} ${rule.rule}: ${rule.value ?? 'nothing measured'} (limit ${rule.limit})`,
          );
        if (gate.quarantined.length > 0) out(`  quarantined: ${gate.quarantined.join(', ')}`);
      }
      await writeReports(api, options, execution);
      const code = exitCodeFor(execution.status, gate?.passed ?? true);
      out(`execution #${id} ${execution.status} (exit ${code})`);
      return code;
    }
    if (Date.now() >= deadline)
      throw new RunFailure(
        RUN_EXIT.infrastructure,
        `timed out after ${options.timeout} s: execution #${id} is still ${execution.status} (it keeps running on the server)`,
      );
    await sleep(Math.min(options.interval * 1000, Math.max(deadline - Date.now(), 0)));
  }
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'Run a suite on a WebGuard server (for CI): prints progress, writes reports, exits 0 passed, 1 tests failed, 2 usage/config, 3 infrastructure or timeout, 4 quality gate failed, 5 nothing to run.',
    )
    .requiredOption('--suite <name|id>', 'the suite to run')
    .option(
      '--project <id>',
      "the project to find --suite's name in (needed only when it is in several of yours)",
      parseProjectId,
    )
    .addOption(
      new Option('--server <url>', 'WebGuard server URL')
        .env('WEBGUARD_SERVER')
        .argParser(parseServer)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--token <token>', 'API token (prefer the env variable: it stays out of logs)')
        .env('WEBGUARD_TOKEN')
        .makeOptionMandatory(),
    )
    .option('--wait', 'wait for the run to end (implied by any report option)', false)
    .option('--timeout <seconds>', 'give up waiting after this long (exit 3)', parseSeconds, 3600)
    .option('--interval <seconds>', 'how often to poll for progress', parseSeconds, 2)
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--allure <dir>', 'write Allure result files')
    .option('--json <file>', 'write the full execution with every result as JSON')
    .option('--summary-md <file>', 'write a markdown summary (CI job summary, PR comment)')
    .option('--commit <sha>', 'commit the run tests (recorded on the execution)')
    .option('--branch <name>', 'branch the run tests (recorded on the execution)')
    .option('--environment <name>', 'environment whose variables and secrets the run uses')
    .action(async (options: RunOptions) => {
      try {
        process.exitCode = await runSuite(options);
      } catch (error) {
        // Anything unexpected is still not "tests failed": exit 3, never 1.
        const failure =
          error instanceof RunFailure
            ? error
            : new RunFailure(
                RUN_EXIT.infrastructure,
                `failed unexpectedly: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
              );
        process.stderr.write(`webguard run: ${failure.message}\n`);
        process.exitCode = failure.exitCode;
      }
    });
}
