import {
  ApiError,
  ArtifactLink,
  ArtifactList,
  Execution,
  ExecutionWithResults,
  FlakyList,
  LoginResponse,
  MeResponse,
  Page,
  RefreshResponse,
  SkillDetail,
  SkillList,
  Suite,
  SuiteSchedule,
  SuiteStatisticsList,
  TestCase,
  TrendsResponse,
  TriggerExecutionResponse,
  type CreateCaseBody,
  type CreateSuiteBody,
  type ExecutionStatus,
  type UpdateCaseBody,
  type UpdateSuiteBody,
  z,
} from '@webguard/shared';

const Anything = z.unknown();

/** Why a call failed, in the terms the UI shows: each kind has its own screen. */
export type ApiFailure =
  'unreachable' | 'unauthorized' | 'forbidden' | 'not-found' | 'invalid' | 'server';

export class ApiRequestError extends Error {
  constructor(
    readonly kind: ApiFailure,
    message: string,
    readonly status: number | null = null,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

const SuitePage = Page(Suite);
const CasePage = Page(TestCase);
const ExecutionPage = Page(Execution);

export interface ListExecutionsOptions {
  limit?: number;
  offset?: number;
  suite_id?: number;
  status?: ExecutionStatus;
}

function kindFor(status: number): ApiFailure {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not-found';
  if (status >= 400 && status < 500) return 'invalid';
  return 'server';
}

function query(values: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * The typed REST client. Every response is parsed with its schema from `@webguard/shared`, so a
 * server speaking another version fails here with a clear message instead of deep in a page.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private token: string | null,
    private readonly timeoutMs = 15_000,
  ) {}

  setToken(token: string | null): void {
    this.token = token;
  }

  private async request<T extends z.ZodType>(
    schema: T,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<z.infer<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason =
        error instanceof Error && error.name === 'TimeoutError'
          ? 'did not answer in time'
          : 'cannot be reached';
      throw new ApiRequestError('unreachable', `The server at ${this.baseUrl} ${reason}.`);
    }
    const text = await response.text();
    let json: unknown = null;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        throw new ApiRequestError(
          'server',
          `${this.baseUrl} answered ${method} ${path} with something that is not JSON: is this a WebGuard server?`,
          response.status,
        );
      }
    }
    if (!response.ok) {
      const parsed = ApiError.safeParse(json);
      const message = parsed.success
        ? parsed.data.error.message
        : `The server answered ${response.status} ${response.statusText}.`;
      throw new ApiRequestError(
        kindFor(response.status),
        message,
        response.status,
        parsed.success ? (parsed.data.error.details ?? []) : [],
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ApiRequestError(
        'server',
        `The server's answer to ${method} ${path} does not match this app's version (${parsed.error.issues[0]?.message ?? 'unexpected shape'}).`,
        response.status,
      );
    }
    return parsed.data;
  }

  // Auth
  login(email: string, password: string) {
    return this.request(LoginResponse, 'POST', '/api/v1/auth/login', { email, password });
  }
  refresh(refreshToken: string) {
    return this.request(RefreshResponse, 'POST', '/api/v1/auth/refresh', {
      refresh_token: refreshToken,
    });
  }
  me() {
    return this.request(MeResponse, 'GET', '/api/v1/auth/me');
  }

  // Suites and cases
  listSuites(options: { limit?: number; offset?: number; name?: string } = {}) {
    return this.request(SuitePage, 'GET', `/api/v1/suites${query({ limit: 200, ...options })}`);
  }
  getSuite(id: number) {
    return this.request(Suite, 'GET', `/api/v1/suites/${id}`);
  }
  createSuite(body: z.input<typeof CreateSuiteBody>) {
    return this.request(Suite, 'POST', '/api/v1/suites', body);
  }
  updateSuite(id: number, body: UpdateSuiteBody) {
    return this.request(Suite, 'PATCH', `/api/v1/suites/${id}`, body);
  }
  deleteSuite(id: number) {
    return this.request(Anything, 'DELETE', `/api/v1/suites/${id}`);
  }
  suiteSchedule(id: number) {
    return this.request(SuiteSchedule, 'GET', `/api/v1/suites/${id}/schedule`);
  }
  listCases(suiteId: number) {
    return this.request(CasePage, 'GET', `/api/v1/suites/${suiteId}/cases?limit=200`);
  }
  createCase(suiteId: number, body: z.input<typeof CreateCaseBody>) {
    return this.request(TestCase, 'POST', `/api/v1/suites/${suiteId}/cases`, body);
  }
  updateCase(suiteId: number, caseId: number, body: UpdateCaseBody) {
    return this.request(TestCase, 'PATCH', `/api/v1/suites/${suiteId}/cases/${caseId}`, body);
  }
  deleteCase(suiteId: number, caseId: number) {
    return this.request(Anything, 'DELETE', `/api/v1/suites/${suiteId}/cases/${caseId}`);
  }

  // Executions
  trigger(suiteId: number) {
    return this.request(TriggerExecutionResponse, 'POST', '/api/v1/executions', {
      suite_id: suiteId,
      triggered_by: 'manual',
    });
  }
  listExecutions(options: ListExecutionsOptions = {}) {
    return this.request(
      ExecutionPage,
      'GET',
      `/api/v1/executions${query({ limit: 50, ...options })}`,
    );
  }
  getExecution(id: number) {
    return this.request(ExecutionWithResults, 'GET', `/api/v1/executions/${id}`);
  }
  cancelExecution(id: number) {
    return this.request(Anything, 'POST', `/api/v1/executions/${id}/cancel`);
  }
  rerunExecution(id: number, only: 'failed' | 'all') {
    return this.request(
      TriggerExecutionResponse,
      'POST',
      `/api/v1/executions/${id}/rerun?only=${only}`,
    );
  }

  // Artifacts
  listArtifacts(resultId: number) {
    return this.request(ArtifactList, 'GET', `/api/v1/results/${resultId}/artifacts`);
  }
  /** A link that works without credentials, for <img>, <video> and downloads. */
  artifactLink(id: number) {
    return this.request(ArtifactLink, 'GET', `/api/v1/artifacts/${id}/link`);
  }

  // Reports
  flaky(options: { days?: number; limit?: number; suite_id?: number } = {}) {
    return this.request(FlakyList, 'GET', `/api/v1/reports/flaky${query(options)}`);
  }
  trends(options: { days?: number; suite_id?: number } = {}) {
    return this.request(TrendsResponse, 'GET', `/api/v1/reports/trends${query(options)}`);
  }
  statistics() {
    return this.request(SuiteStatisticsList, 'GET', '/api/v1/reports/statistics');
  }

  // Skills
  listSkills() {
    return this.request(SkillList, 'GET', '/api/v1/skills');
  }
  getSkill(name: string) {
    return this.request(SkillDetail, 'GET', `/api/v1/skills/${encodeURIComponent(name)}`);
  }
}
