import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssertionFailedError, NetworkError, SkillError, TimeoutError } from '@webguard/shared';
import { closedPort } from '../../test/support/closed-port.js';
import { json, startFixtureServer } from '../../test/support/fixture-server.js';
import { createHttpClient } from './http-client.js';

async function readRequestBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('createHttpClient', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;
  const signal = new AbortController().signal;

  beforeAll(async () => {
    server = await startFixtureServer({
      '/echo': (request, response) => {
        void readRequestBody(request).then((body) =>
          json(200, { method: request.method, headers: request.headers, body })(request, response),
        );
      },
      '/multi-header': (_request, response) => {
        response.setHeader('x-many', ['a', 'b']);
        response.end('ok');
      },
      '/redirect': (request, response) => {
        const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
        const hops = Number(query.get('hops') ?? '1');
        const status = Number(query.get('status') ?? '302');
        const next = hops <= 1 ? '/echo' : `/redirect?hops=${hops - 1}&status=${status}`;
        response.writeHead(status, { location: next }).end();
      },
      '/elsewhere': (request, response) => {
        const to = new URL(request.url ?? '/', 'http://localhost').searchParams.get('to') ?? '/';
        response.writeHead(302, { location: to }).end();
      },
      '/slow': (_request, response) => {
        setTimeout(() => response.end('late'), 2_000).unref();
      },
      '/big': (_request, response) => {
        response.end('x'.repeat(2048));
      },
      '/big-chunked': (_request, response) => {
        // No content-length: the limit must hold while the body streams in.
        for (let i = 0; i < 4; i++) response.write('y'.repeat(512));
        response.end();
      },
      '/text': (_request, response) => {
        response.end('not json at all');
      },
    });
  });
  afterAll(() => server.close());

  it('sends method, headers and a JSON body and reads the response', async () => {
    const client = createHttpClient({ signal });
    const response = await client.request({
      method: 'post',
      url: `${server.url}/echo`,
      headers: { 'X-Test': 'yes' },
      json: { hello: 'world' },
    });
    expect(response.status).toBe(200);
    expect(response.url).toBe(`${server.url}/echo`);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toMatchObject({
      method: 'POST',
      headers: { 'x-test': 'yes', 'content-type': 'application/json', 'user-agent': 'WebGuard' },
      body: '{"hello":"world"}',
    });
    expect(response.timings.ttfb_ms).toBeGreaterThanOrEqual(0);
    expect(response.timings.total_ms).toBeGreaterThanOrEqual(response.timings.ttfb_ms);
  });

  it('flattens repeated headers into one string', async () => {
    const response = await createHttpClient({ signal }).request({
      url: `${server.url}/multi-header`,
    });
    expect(response.headers['x-many']).toBe('a, b');
    expect(response.body).toBe('ok');
  });

  it('follows redirects, turning a POST into a GET on 302 and keeping it on 307', async () => {
    const client = createHttpClient({ signal });
    const found = await client.request({
      method: 'POST',
      url: `${server.url}/redirect?hops=3`,
      body: 'payload',
    });
    expect(found.url).toBe(`${server.url}/echo`);
    expect(found.json()).toMatchObject({ method: 'GET', body: '' });

    const temporary = await client.request({
      method: 'POST',
      url: `${server.url}/redirect?status=307`,
      body: 'payload',
    });
    expect(temporary.json()).toMatchObject({ method: 'POST', body: 'payload' });
  });

  it('does not forward credentials to another origin on a redirect', async () => {
    const other = await startFixtureServer({
      '/': (request, response) => json(200, { headers: request.headers })(request, response),
    });
    try {
      const response = await createHttpClient({ signal }).request({
        url: `${server.url}/elsewhere?to=${encodeURIComponent(`${other.url}/`)}`,
        headers: { Authorization: 'Bearer secret', 'X-Kept': 'yes' },
      });
      expect(response.url).toBe(`${other.url}/`);
      const { headers } = response.json() as { headers: Record<string, string> };
      expect(headers['authorization']).toBeUndefined();
      expect(headers['x-kept']).toBe('yes');
    } finally {
      await other.close();
    }
  });

  it('returns the redirect itself when asked not to follow', async () => {
    const response = await createHttpClient({ signal }).request({
      url: `${server.url}/redirect`,
      followRedirects: false,
    });
    expect(response.status).toBe(302);
    expect(response.headers['location']).toBe('/echo');
  });

  it('stops after 10 redirects', async () => {
    const request = createHttpClient({ signal }).request({ url: `${server.url}/redirect?hops=20` });
    await expect(request).rejects.toThrow(/redirected more than 10 times/);
  });

  it('throws a NetworkError naming the URL when nothing listens', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/health`;
    const error: unknown = await createHttpClient({ signal })
      .request({ url })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).message).toMatch(/ECONNREFUSED/);
    expect((error as NetworkError).message).toContain(`(GET ${url})`);
    expect((error as NetworkError).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('ends a request at its own time limit with a TimeoutError', async () => {
    const started = performance.now();
    const request = createHttpClient({ signal }).request({
      url: `${server.url}/slow`,
      timeoutMs: 100,
    });
    await expect(request).rejects.toThrow(TimeoutError);
    await expect(request).rejects.toThrow(
      `GET ${server.url}/slow got no complete response within 100 ms`,
    );
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('ends a request when the case signal aborts, with the abort reason', async () => {
    const controller = new AbortController();
    const request = createHttpClient({ signal: controller.signal }).request({
      url: `${server.url}/slow`,
    });
    setTimeout(() => controller.abort(new SkillError('system', 'cancelled')), 50);
    await expect(request).rejects.toThrow('cancelled');
  });

  it('refuses a body over the limit', async () => {
    const request = createHttpClient({ signal, maxBodyBytes: 1024 }).request({
      url: `${server.url}/big`,
    });
    await expect(request).rejects.toThrow(
      `the response body of GET ${server.url}/big is larger than 1024 bytes`,
    );
    const chunked = createHttpClient({ signal, maxBodyBytes: 1024 }).request({
      url: `${server.url}/big-chunked`,
    });
    await expect(chunked).rejects.toThrow(
      `the response body of GET ${server.url}/big-chunked is larger than 1024 bytes`,
    );
  });

  it('makes json() fail as an assertion naming the URL', async () => {
    const response = await createHttpClient({ signal }).request({ url: `${server.url}/text` });
    expect(() => response.json()).toThrow(AssertionFailedError);
    expect(() => response.json()).toThrow(`the response of GET ${server.url}/text is not JSON`);
  });

  it('rejects a URL that does not parse', async () => {
    await expect(createHttpClient({ signal }).request({ url: 'not a url' })).rejects.toThrow(
      'cannot request "not a url": not a valid URL',
    );
  });
});
