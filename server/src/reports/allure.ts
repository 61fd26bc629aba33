import { createHash } from 'node:crypto';
import type { ExecutionWithResults, ResultStatus, TestResult } from '@webguard/shared';
import { caseOutput, type ReportArtifact } from './junit.js';

/** An Allure 2 result file's content (`<uuid>-result.json`). */
export interface AllureResult {
  uuid: string;
  historyId: string;
  testCaseId: string;
  name: string;
  fullName: string;
  status: 'passed' | 'failed' | 'broken' | 'skipped';
  statusDetails: { message?: string; trace?: string; flaky?: boolean };
  stage: 'finished';
  start: number;
  stop: number;
  steps: {
    name: string;
    status: 'passed' | 'failed';
    stage: 'finished';
    start: number;
    stop: number;
    statusDetails: { message?: string };
    steps: [];
    attachments: [];
    parameters: [];
  }[];
  attachments: { name: string; source: string; type: string }[];
  parameters: { name: string; value: string }[];
  labels: { name: string; value: string }[];
  links: { name: string; url: string; type: string }[];
}

/**
 * An Allure 2 container file's content (`<uuid>-container.json`): the run, grouping its
 * results. WebGuard has no fixtures, so `befores` and `afters` stay empty.
 */
export interface AllureContainer {
  uuid: string;
  name: string;
  children: string[];
  befores: [];
  afters: [];
  links: [];
  start: number;
  stop: number;
}

/**
 * An attachment file to write beside the results: its name and content, or where to fetch it
 * (`url`, the artifact `artifactId` on this server).
 */
export interface AllureAttachment {
  source: string;
  content?: string;
  url?: string;
  artifactId?: number;
}

/** The files of an `allure-results` folder. */
export interface AllureReport {
  results: AllureResult[];
  containers: AllureContainer[];
  attachments: AllureAttachment[];
  /** The content of `environment.properties`. */
  environment: string;
}

// Allure calls an assertion failure `failed` and anything else that went wrong `broken`.
const ALLURE_STATUS: Record<ResultStatus, AllureResult['status']> = {
  passed: 'passed',
  failed: 'failed',
  timeout: 'broken',
  error: 'broken',
  skipped: 'skipped',
};

/** Stable ids: the same run always gives the same file names. */
const uuidFor = (seed: string) => {
  const hex = createHash('sha256').update(`webguard:${seed}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

const extension = (name: string) => /\.[A-Za-z0-9]{1,8}$/.exec(name)?.[0] ?? '';

function allureResult(
  execution: ExecutionWithResults,
  result: TestResult,
  artifacts: ReportArtifact[],
  attachments: AllureAttachment[],
): AllureResult {
  const uuid = uuidFor(`${execution.id}:${result.id}`);
  const start = Date.parse(result.started_at ?? result.created_at);
  const stop = result.completed_at ? Date.parse(result.completed_at) : start;
  const fullName = `${execution.suite_name}.${result.test_name}`;
  const files: AllureResult['attachments'] = [];
  const log = caseOutput(result);
  if (log) {
    const source = `${uuid}-log-attachment.txt`;
    attachments.push({ source, content: log });
    files.push({ name: 'log', source, type: 'text/plain' });
  }
  artifacts.forEach((artifact, index) => {
    const source = `${uuid}-${index}-attachment${extension(artifact.name)}`;
    attachments.push({ source, url: artifact.url, artifactId: artifact.id });
    files.push({ name: artifact.name, source, type: contentTypeOf(artifact.name) });
  });
  const labels = [
    { name: 'suite', value: execution.suite_name },
    { name: 'framework', value: 'webguard' },
    { name: 'language', value: 'typescript' },
  ];
  if (result.skill_name) labels.push({ name: 'tag', value: result.skill_name });
  if (result.error_type) labels.push({ name: 'tag', value: `error:${result.error_type}` });
  return {
    uuid,
    historyId: md5(fullName),
    testCaseId: md5(fullName),
    name: result.test_name,
    fullName,
    status: ALLURE_STATUS[result.status],
    statusDetails: {
      ...(result.error_message ? { message: result.error_message } : {}),
      ...(result.stack_trace ? { trace: result.stack_trace } : {}),
      ...(result.flaky ? { flaky: true } : {}),
    },
    stage: 'finished',
    start,
    stop,
    steps: result.steps.map((step) => {
      const stepStart = Date.parse(step.started_at);
      return {
        name: step.name,
        status: step.status,
        stage: 'finished' as const,
        start: stepStart,
        stop: stepStart + step.duration_ms,
        statusDetails: step.error ? { message: step.error } : {},
        steps: [] as [],
        attachments: [] as [],
        parameters: [] as [],
      };
    }),
    attachments: files,
    parameters: [
      { name: 'execution', value: String(execution.id) },
      ...(execution.environment ? [{ name: 'environment', value: execution.environment }] : []),
    ],
    labels,
    links: [],
  };
}

function contentTypeOf(name: string): string {
  const types: Record<string, string> = {
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.jpeg': 'image/jpeg',
    '.webm': 'video/webm',
    '.mp4': 'video/mp4',
    '.zip': 'application/zip',
    '.json': 'application/json',
    '.txt': 'text/plain',
    '.log': 'text/plain',
    '.html': 'text/html',
  };
  return types[extension(name).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Allure results of one execution: one result per case with steps, labels and attachments
 * (logs inline, artifacts to be fetched from their URL), a container for the run, and the
 * environment file.
 */
export function toAllure(
  execution: ExecutionWithResults,
  artifacts: ReadonlyMap<number, ReportArtifact[]> = new Map(),
): AllureReport {
  const attachments: AllureAttachment[] = [];
  const results = execution.results.map((result) =>
    allureResult(execution, result, artifacts.get(result.id) ?? [], attachments),
  );
  const start = Date.parse(execution.started_at ?? execution.created_at);
  const containers: AllureContainer[] = [
    {
      uuid: uuidFor(`${execution.id}:container`),
      name: `${execution.suite_name} #${execution.id}`,
      children: results.map((result) => result.uuid),
      befores: [],
      afters: [],
      links: [],
      start,
      stop: execution.completed_at ? Date.parse(execution.completed_at) : start,
    },
  ];
  const environment = [
    ['webguard.execution', String(execution.id)],
    ['webguard.suite', execution.suite_name],
    ['webguard.status', execution.status],
    ['ci.commit', execution.ci_commit_sha ?? ''],
    ['ci.branch', execution.ci_branch ?? ''],
    ['webguard.environment', execution.environment ?? ''],
  ]
    .filter(([, value]) => value)
    .map(([key, value]) => `${key}=${value!.replace(/\n/g, ' ')}`)
    .join('\n');
  return { results, containers, attachments, environment: `${environment}\n` };
}
