import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { runCase } from '../../server/src/engine/index.js';
import { closedPort } from '../../server/test/support/closed-port.js';
import securityBaseline from './skill.js';

const DAY_MS = 86_400_000;

/** A certificate for 127.0.0.1 made at test time; `days` from now until it expires. */
async function certificate(days: number) {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    notBeforeDate: new Date(now - 2 * DAY_MS),
    notAfterDate: new Date(now + days * DAY_MS),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  return { key: pems.private, cert: pems.cert };
}

async function listen(server: Server, scheme: 'http' | 'https') {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A site that does everything right. */
const wellKept: RequestListener = (request, response) => {
  if (request.url !== '/') return void response.writeHead(404).end('not found');
  response
    .writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'strict-origin-when-cross-origin',
      'permissions-policy': 'camera=(), geolocation=()',
      'set-cookie': 'session=abc; Path=/; Secure; HttpOnly; SameSite=Lax',
    })
    .end('<html><script src="https://cdn.example/app.js"></script><img src="/logo.png"></html>');
};

/** A site that gets most things wrong. */
const neglected: RequestListener = (request, response) => {
  const common = { server: 'Apache/2.4.49 (Unix)', 'x-powered-by': 'Express' };
  if (request.url === '/.git/config')
    return void response.writeHead(200, common).end('[core]\n\trepositoryformatversion = 0\n');
  if (request.url === '/.env')
    return void response.writeHead(200, common).end('DATABASE_URL=postgres://app:pw@db/app\n');
  if (request.url !== '/') return void response.writeHead(404, common).end('not found');
  const origin = request.headers['origin'];
  response
    .writeHead(200, {
      ...common,
      'content-type': 'text/html',
      'set-cookie': ['sessionid=1; Path=/', 'theme=dark; SameSite=None'],
      ...(origin
        ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true' }
        : {}),
    })
    .end(
      '<html><script src="http://cdn.example/app.js"></script><img src="http://img.example/a.png"></html>',
    );
};

describe('security-baseline', () => {
  const servers: Server[] = [];
  const urls: Record<'good' | 'bad' | 'soft404' | 'expiring' | 'expired', string> = {
    good: '',
    bad: '',
    soft404: '',
    expiring: '',
    expired: '',
  };
  let trustedCa = '';

  beforeAll(async () => {
    const [valid, expiring, expired] = await Promise.all([
      certificate(400),
      certificate(10),
      certificate(-3),
    ]);
    trustedCa = valid.cert;
    const https = (tls: { key: string; cert: string }, handler: RequestListener) => {
      const server = createHttpsServer(tls, handler);
      servers.push(server);
      return listen(server, 'https');
    };
    urls.good = await https(valid, wellKept);
    urls.bad = await https(valid, neglected);
    urls.expiring = await https(expiring, wellKept);
    urls.expired = await https(expired, wellKept);
    const soft = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>Welcome home</html>');
    });
    servers.push(soft);
    urls.soft404 = await listen(soft, 'http');
  });
  afterAll(() => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });

  const scan = async (params: Record<string, unknown>) =>
    CaseOutcome.parse(
      await runCase({
        skill: securityBaseline,
        params,
        caseName: 'scan',
        executionId: null,
        timeoutMs: 20_000,
      }),
    );
  const findingIds = (outcome: CaseOutcome) =>
    (outcome.outputs['findings'] as { id: string; severity: string }[]).map(
      (f) => `${f.severity} ${f.id}`,
    );

  it('finds nothing on a well-kept https site whose CA is trusted', async () => {
    const outcome = await scan({ url: `${urls.good}/`, trusted_ca: trustedCa, fail_on: 'info' });

    expect(outcome).toMatchObject({ status: 'passed', error_message: null });
    expect(outcome.outputs['findings']).toEqual([]);
    expect(outcome.outputs['tls']).toMatchObject({
      authorized: true,
      authorization_error: null,
      days_to_expiry: 399,
      subject: 'CN=127.0.0.1',
    });
    expect(outcome.steps.map((step) => step.name)).toEqual([
      'fetch page',
      'security headers',
      'cookies',
      'TLS certificate',
      'version disclosure',
      'CORS',
      'exposed files',
      'mixed content',
    ]);
    const metrics = Object.fromEntries(
      outcome.metrics.map((metric) => [metric.name, metric.value]),
    );
    expect(metrics).toEqual({
      findings_info: 0,
      findings_low: 0,
      findings_medium: 0,
      findings_high: 0,
      findings_critical: 0,
      findings: 0,
      tls_days_to_expiry: 399,
    });
  });

  it('reports every finding on a neglected site, each with severity and evidence', async () => {
    const outcome = await scan({ url: `${urls.bad}/`, fail_on: 'never' });

    expect(outcome.status).toBe('passed');
    expect(findingIds(outcome)).toEqual([
      'critical exposed-file',
      'high tls-self-signed-certificate',
      'high cors-reflects-origin-with-credentials',
      'high exposed-file',
      'medium missing-csp',
      'medium missing-hsts',
      'medium missing-frame-protection',
      'medium cookie-without-secure',
      'medium cookie-without-httponly',
      'medium cookie-without-secure',
      'medium cookie-samesite-none-without-secure',
      'medium mixed-content-active',
      'low missing-x-content-type-options',
      'low missing-referrer-policy',
      'low missing-permissions-policy',
      'low cookie-without-samesite',
      'low cookie-without-httponly',
      'low server-version-disclosure',
      'low x-powered-by-disclosure',
      'low mixed-content-passive',
    ]);
    const findings = outcome.outputs['findings'] as {
      id: string;
      message: string;
      evidence: string;
    }[];
    expect(findings.find((f) => f.id === 'server-version-disclosure')?.evidence).toBe(
      'Server: Apache/2.4.49 (Unix)',
    );
    expect(findings.find((f) => f.id === 'mixed-content-active')?.evidence).toBe(
      '<script> http://cdn.example/app.js',
    );
    expect(findings.find((f) => f.id === 'tls-self-signed-certificate')?.evidence).toMatch(
      /^DEPTH_ZERO_SELF_SIGNED_CERT; subject CN=127\.0\.0\.1/,
    );
    expect(findings.filter((f) => f.id === 'exposed-file').map((f) => f.message)).toEqual([
      '/.env is served: an environment file (often secrets)',
      '/.git/config is served: the git repository config',
    ]);
    expect(outcome.metrics.find((metric) => metric.name === 'findings_high')?.value).toBe(3);
  });

  it('fails at the fail_on severity, listing the findings that reached it', async () => {
    const outcome = await scan({ url: `${urls.bad}/`, checks: ['tls', 'exposed_files'] });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(outcome.error_message).toMatch(
      new RegExp(
        `^3 findings at or above high on ${urls.bad}/: \\[critical\\] exposed-file: /\\.env is served: an environment file \\(often secrets\\) \\(GET ${urls.bad}/\\.env → 200, starts with "DATABASE_URL=`,
      ),
    );
    expect(outcome.error_message).toContain(
      '[high] tls-self-signed-certificate: the TLS certificate is self-signed',
    );
    expect(outcome.steps.map((step) => step.name)).toEqual([
      'fetch page',
      'TLS certificate',
      'exposed files',
    ]);
  });

  it('reports certificates that expire soon or have expired', async () => {
    const expiring = await scan({
      url: urls.expiring,
      trusted_ca: trustedCa,
      checks: ['tls'],
      fail_on: 'never',
    });
    expect(findingIds(expiring)).toContain('medium tls-certificate-expiring');
    expect(expiring.metrics.find((metric) => metric.name === 'tls_days_to_expiry')?.value).toBe(9);

    const expired = await scan({ url: urls.expired, checks: ['tls'], fail_on: 'critical' });
    expect(expired).toMatchObject({ status: 'failed', error_type: 'assertion' });
    expect(expired.error_message).toMatch(
      /^1 findings at or above critical on .*: \[critical\] tls-certificate-expired: the TLS certificate expired [34] days ago/,
    );
  });

  it('does not take a site that answers 200 to everything for one exposing files', async () => {
    const outcome = await scan({
      url: urls.soft404,
      checks: ['exposed_files'],
      exposed_paths: ['/admin'],
      fail_on: 'never',
    });
    expect(findingIds(outcome)).toEqual(['medium no-https']);
  });

  it('reports an unreachable site as a network error', async () => {
    const url = `https://127.0.0.1:${await closedPort()}/`;
    const outcome = await scan({ url });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'network' });
    expect(outcome.error_message).toMatch(
      new RegExp(`ECONNREFUSED.*\\(GET ${url.replace(/\./g, '\\.')}\\)$`),
    );
  });

  it('rejects bad params, naming each field', async () => {
    const outcome = await scan({
      url: 'ftp://127.0.0.1/',
      checks: ['headers', 'ports'],
      fail_on: 'severe',
      exposed_paths: ['.env'],
      trusted_ca: 'not a pem',
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system', steps: [] });
    expect(outcome.error_message).toMatch(/^invalid params for skill "security-baseline": /);
    for (const expected of [
      'url: must be an http or https URL',
      'checks[1]: ',
      'fail_on: ',
      'exposed_paths[0]: must be a path starting with /',
      'trusted_ca: must be a PEM certificate',
    ])
      expect(outcome.error_message).toContain(expected);
  });
});
