import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoleProcesses } from '../support/processes.js';
import { signInOverHttp, startTestRuntime, type TestRuntime } from '../support/test-runtime.js';

/** A real API process facing clients that misbehave. */
let t: TestRuntime;
let api: { url: string };
let auth: Record<string, string>;
const processes = new RoleProcesses(() => ({ ...t.env, LOG_LEVEL: 'fatal' }));

beforeAll(async () => {
  t = await startTestRuntime({}, { workers: [], scheduler: false });
  api = await processes.spawnApi({ WEBGUARD_REQUEST_TIMEOUT_MS: '1000' });
  auth = await signInOverHttp(api.url);
});
afterAll(async () => {
  await processes.stopAll();
  await t?.stop();
});

/** Sends `head` over a plain socket, lets `body` write the rest, and collects the answer. */
function rawRequest(
  head: string,
  body: (socket: Socket) => () => number,
): Promise<{ answer: string; sent: number }> {
  const { hostname, port } = new URL(api.url);
  const socket = connect(Number(port), hostname);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  // The server hanging up mid-write is what these tests provoke.
  socket.on('error', () => undefined);
  socket.write(head);
  const sent = body(socket);
  return new Promise((resolve) => socket.on('close', () => resolve({ answer, sent: sent() })));
}

const postJson = (path: string, body: string) =>
  fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body,
  });

describe('hostile HTTP', () => {
  it('answers a 50 MB body with 413 without reading it', async () => {
    const size = 50 * 1024 * 1024;
    const { answer, sent } = await rawRequest(
      `POST /api/v1/suites HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
      (socket) => {
        // Starts the body, then goes on as fast as the server takes it once it has answered. A
        // client still writing when the server hangs up would get a reset that can discard the
        // answer before it is read, so the answer is awaited first.
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let written = chunk.length;
        socket.write(chunk);
        const pump = () => {
          while (written < size && !socket.destroyed) {
            written += chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        socket.once('data', () => setTimeout(pump, 50));
        return () => written;
      },
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
    expect(sent).toBeLessThan(size);
    // Still serving.
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });

  it('refuses __proto__ and constructor.prototype payloads and stays unpolluted', async () => {
    for (const body of [
      '{"name":"proto","__proto__":{"polluted":true}}',
      '{"name":"ctor","constructor":{"prototype":{"polluted":true}}}',
      '{"name":"nested","description":"x","tags":[{"__proto__":{"polluted":true}}]}',
    ]) {
      const response = await postJson('/api/v1/suites', body);
      expect(response.status, body).toBe(400);
      const error = ((await response.json()) as { error: { code: string } }).error;
      expect(error.code).toBe('INVALID_JSON');
    }
    const created = await postJson('/api/v1/suites', '{"name":"clean"}');
    expect(created.status).toBe(201);
    const suite = (await created.json()) as Record<string, unknown>;
    expect(suite.polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('cuts a client that sends its request too slowly', async () => {
    const { answer } = await rawRequest(
      `POST /api/v1/suites HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
      (socket) => {
        // A byte now and then keeps an idle timeout away; only the request deadline ends this.
        const drip = setInterval(() => socket.write(' '), 200);
        socket.on('close', () => clearInterval(drip));
        return () => 0;
      },
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers a database failure with a generic 500 that names nothing inside', async () => {
    const admin = new pg.Client({ connectionString: t.env.DATABASE_URL });
    await admin.connect();
    await admin.query('ALTER TABLE test_suites RENAME TO test_suites_away');
    try {
      const response = await fetch(`${api.url}/api/v1/suites`, { headers: auth });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({
        error: {
          code: 'INTERNAL',
          message: 'the server failed to handle this request; see its log for details',
        },
      });
      expect(text).not.toMatch(/test_suites|relation|select|postgres|at \//i);
    } finally {
      await admin.query('ALTER TABLE test_suites_away RENAME TO test_suites');
      await admin.end();
    }
    expect((await fetch(`${api.url}/api/v1/suites`, { headers: auth })).status).toBe(200);
  });
});
