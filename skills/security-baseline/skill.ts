import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import {
  AssertionFailedError,
  NetworkError,
  TimeoutError,
  defineSkill,
  z,
  type JsonObject,
} from '@webguard/shared';
import {
  EXPOSED_FILE_PROBES,
  SEVERITIES,
  checkCookies,
  checkCors,
  checkDisclosure,
  checkMixedContent,
  checkSecurityHeaders,
  severityRank,
  type ExposedFileProbe,
  type Finding,
  type Headers,
} from './checks.js';
import { checkTls, type TlsReport } from './tls-check.js';

const CHECKS = [
  'headers',
  'cookies',
  'tls',
  'disclosure',
  'cors',
  'exposed_files',
  'mixed_content',
] as const;
type Check = (typeof CHECKS)[number];

const Params = z.object({
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http or https URL' })
    .describe('the page to check'),
  checks: z
    .array(z.enum(CHECKS))
    .min(1)
    .default([...CHECKS])
    .describe(`which checks to run (default all: ${CHECKS.join(', ')})`),
  fail_on: z
    .enum([...SEVERITIES, 'never'])
    .default('high')
    .describe('fail the case when a finding is this severe or worse; never: only report'),
  exposed_paths: z
    .array(z.string().startsWith('/', 'must be a path starting with /'))
    .default([])
    .describe(
      'more paths that must not be served, besides /.git/config, /.env, backups and the like',
    ),
  tls_expiry_warning_days: z
    .number()
    .int()
    .min(0)
    .max(365)
    .default(30)
    .describe('report a certificate that expires within this many days'),
  trusted_ca: z
    .string()
    .includes('BEGIN CERTIFICATE', { message: 'must be a PEM certificate' })
    .optional()
    .describe(
      'a CA certificate (PEM) to trust besides the public ones, for sites behind a private CA',
    ),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(120_000)
    .default(15_000)
    .describe('time limit for each request (ms)'),
});
type Params = z.output<typeof Params>;

interface Fetched {
  url: URL;
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Bodies are only searched for signatures and resource URLs; the start of each is enough. */
const MAX_BODY_BYTES = 512 * 1024;
const MAX_REDIRECTS = 5;
/** An origin no site has reason to trust, for the CORS probe. */
const PROBE_ORIGIN = 'https://webguard-cors-probe.example';

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) break;
  }
  body.destroy();
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES);
}

function fetcher(params: Params, signal: AbortSignal) {
  // Certificates are judged by the TLS check; the other checks still need the page.
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false, ca: params.trusted_ca } });
  const fetchOnce = async (url: URL, headers: Record<string, string> = {}): Promise<Fetched> => {
    const where = `GET ${url.href}`;
    try {
      const response = await request(url, {
        dispatcher,
        headers: { 'user-agent': 'WebGuard security-baseline', ...headers },
        signal: AbortSignal.any([signal, AbortSignal.timeout(params.timeout_ms)]),
      });
      const body = await readLimited(response.body);
      return { url, status: response.statusCode, headers: response.headers, body };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if ((error as Error).name === 'TimeoutError')
        throw new TimeoutError(`${where} got no complete response within ${params.timeout_ms} ms`);
      const reason = error instanceof Error ? error.message : String(error);
      throw new NetworkError(`${reason} (${where})`, { cause: error });
    }
  };
  return {
    fetchOnce,
    /** Follows redirects the way a browser would, so headers are judged on the page itself. */
    async page(start: URL): Promise<{ page: Fetched; redirects: string[] }> {
      const redirects: string[] = [];
      let current = await fetchOnce(start);
      while (
        current.status >= 300 &&
        current.status < 400 &&
        typeof current.headers['location'] === 'string'
      ) {
        if (redirects.length === MAX_REDIRECTS)
          throw new NetworkError(`${start.href} redirected more than ${MAX_REDIRECTS} times`);
        redirects.push(current.url.href);
        current = await fetchOnce(new URL(current.headers['location'], current.url));
      }
      return { page: current, redirects };
    },
    close: () => dispatcher.close(),
  };
}

async function probeExposedFiles(
  origin: URL,
  extraPaths: string[],
  fetchOnce: ReturnType<typeof fetcher>['fetchOnce'],
): Promise<Finding[]> {
  // A site that answers 200 for everything (a soft 404) must not look like it exposes everything.
  const missing = await fetchOnce(
    new URL(`/webguard-${randomBytes(6).toString('hex')}.txt`, origin),
  );
  const soft404 = missing.status === 200 ? missing.body : undefined;
  const probes: ExposedFileProbe[] = [
    ...EXPOSED_FILE_PROBES,
    ...extraPaths.map((path) => ({
      path,
      severity: 'medium' as const,
      what: 'a path listed in exposed_paths',
      looksReal: (body: Buffer) => body.length > 0,
    })),
  ];
  const results = await Promise.all(
    probes.map(async (probe) => ({ probe, answer: await fetchOnce(new URL(probe.path, origin)) })),
  );
  return results
    .filter(
      ({ probe, answer }) =>
        answer.status === 200 &&
        !(soft404 && answer.body.equals(soft404)) &&
        probe.looksReal(answer.body),
    )
    .map(({ probe, answer }) => ({
      id: 'exposed-file',
      severity: probe.severity,
      message: `${probe.path} is served: ${probe.what}`,
      evidence: `GET ${answer.url.href} → 200, starts with ${JSON.stringify(answer.body.subarray(0, 60).toString('latin1'))}`,
    }));
}

export default defineSkill({
  name: 'security-baseline',
  category: 'security',
  version: '1.0.0',
  description:
    'Passive security checks of a site: security headers, cookie flags, TLS certificate, version disclosure, permissive CORS, exposed files and mixed content, each finding with a severity.',
  params: Params,
  async run(ctx, params) {
    const enabled = new Set<Check>(params.checks);
    const http = fetcher(params, ctx.signal);
    const findings: Finding[] = [];
    let tls: TlsReport | undefined;
    const run = async (check: Check, name: string, fn: () => Promise<Finding[]> | Finding[]) => {
      if (enabled.has(check)) findings.push(...(await ctx.step(name, fn)));
    };
    try {
      const { page, redirects } = await ctx.step('fetch page', () =>
        http.page(new URL(params.url)),
      );
      const https = page.url.protocol === 'https:';
      ctx.log.info(`${page.url.href} answered ${page.status}`, { redirects, status: page.status });
      if (!https)
        findings.push({
          id: 'no-https',
          severity: 'medium',
          message: 'the page is served over plain http: anyone on the path can read and change it',
          evidence: page.url.href,
        });

      await run('headers', 'security headers', () => checkSecurityHeaders(page.headers, https));
      await run('cookies', 'cookies', () => checkCookies(page.headers, https));
      if (https)
        await run('tls', 'TLS certificate', async () => {
          tls = await checkTls(page.url, {
            ca: params.trusted_ca,
            warnDays: params.tls_expiry_warning_days,
            timeoutMs: params.timeout_ms,
            signal: ctx.signal,
          });
          return tls.findings;
        });
      await run('disclosure', 'version disclosure', () => checkDisclosure(page.headers));
      await run('cors', 'CORS', async () => {
        const answer = await http.fetchOnce(page.url, { origin: PROBE_ORIGIN });
        return checkCors(answer.headers, PROBE_ORIGIN);
      });
      await run('exposed_files', 'exposed files', () =>
        probeExposedFiles(page.url, params.exposed_paths, http.fetchOnce),
      );
      const isHtml = /html/i.test(String(page.headers['content-type'] ?? ''));
      if (https && isHtml)
        await run('mixed_content', 'mixed content', () =>
          checkMixedContent(page.body.toString('utf8')),
        );
    } finally {
      await http.close();
    }

    findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
    const counts = Object.fromEntries(
      SEVERITIES.map((severity) => [
        severity,
        findings.filter((f) => f.severity === severity).length,
      ]),
    );
    for (const severity of SEVERITIES) ctx.metric(`findings_${severity}`, counts[severity] ?? 0);
    ctx.metric('findings', findings.length);
    const certificate = tls?.certificate;
    if (certificate) ctx.metric('tls_days_to_expiry', certificate.days_to_expiry, 'days');
    for (const finding of findings)
      ctx.log.warn(`[${finding.severity}] ${finding.id}: ${finding.message}`, {
        evidence: finding.evidence,
      });

    if (params.fail_on !== 'never') {
      const threshold = severityRank(params.fail_on);
      const failing = findings.filter((finding) => severityRank(finding.severity) >= threshold);
      if (failing.length > 0) {
        throw new AssertionFailedError(
          `${failing.length} findings at or above ${params.fail_on} on ${params.url}: ${failing
            .map((f) => `[${f.severity}] ${f.id}: ${f.message} (${f.evidence})`)
            .join('; ')}`,
        );
      }
    }
    const outputs: JsonObject = {
      url: params.url,
      findings: findings.map((finding) => ({ ...finding })),
      counts,
      tls: certificate ? { ...certificate } : null,
    };
    return outputs;
  },
});
