import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { RunEvent } from '@webguard/shared';
import { Redis } from 'ioredis';
import { loadConfig } from '../config.js';
import { LiveKeys } from './keys.js';
import { createLogger } from '../runtime/logger.js';
import { startRuntime, type Runtime } from '../runtime/runtime.js';
import { closedPort } from '../../test/support/closed-port.js';
import { json, startFixtureServer } from '../../test/support/fixture-server.js';
import { connectLive, LIVE_TEST_ENV, type LiveClient } from '../../test/support/live-client.js';
import { TEST_REDIS_URL } from '../../test/support/redis.js';
import { startTestRuntime, type TestRuntime } from '../../test/support/test-runtime.js';
import { waitFor } from '../../test/support/wait-for.js';

/**
 * The live transport end to end: real workers publish to Redis streams, the API relays over
 * Socket.IO, and socket.io-client watches as the desktop does.
 */
let t: TestRuntime;
/** A second API process on the same database and Redis, with no workers. */
let other: Runtime;
const clients: LiveClient[] = [];
let fixture: Awaited<ReturnType<typeof startFixtureServer>>;
/** The fixture page keeps repainting until the test says it is done. */
let pageDone = false;

beforeAll(async () => {
  fixture = await startFixtureServer({
    '/busy': (_request, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end(
        `<!doctype html><title>busy</title><p id="clock"></p><script>
          setInterval(() => (document.getElementById('clock').textContent = String(Date.now())), 40);
          setInterval(async () => {
            const state = await (await fetch('/state')).json();
            if (state.done && !document.getElementById('done'))
              document.body.insertAdjacentHTML('beforeend', '<p id="done">done</p>');
          }, 100);
        </script>`,
      ),
    '/state': (request, response) => json(200, { done: pageDone })(request, response),
  });
  t = await startTestRuntime(
    { ...LIVE_TEST_ENV, PORT: String(await closedPort()) },
    { listen: true },
  );
  const config = loadConfig({ ...t.env, PORT: String(await closedPort()) });
  other = await startRuntime(
    config,
    { api: true, workers: [], listen: true },
    createLogger(config, 'test'),
  );
});

afterAll(async () => {
  for (const client of clients) client.close();
  await other?.close();
  await t?.stop();
  await fixture?.close();
});

async function client(runtime: TestRuntime = t) {
  const connected = await connectLive(runtime);
  clients.push(connected);
  return connected;
}

async function suiteOf(name: string, cases: Record<string, unknown>[], concurrency = 3) {
  const created = await t.inject({
    method: 'POST',
    url: '/api/v1/suites',
    payload: { name, max_concurrent_tests: concurrency },
  });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json<{ id: number }>().id;
  for (const testCase of cases) {
    const response = await t.inject({
      method: 'POST',
      url: `/api/v1/suites/${id}/cases`,
      payload: testCase,
    });
    expect(response.statusCode, response.body).toBe(201);
  }
  return id;
}

async function trigger(suiteId: number, via: 'main' | 'other' = 'main') {
  const request = {
    method: 'POST' as const,
    url: '/api/v1/executions',
    payload: { suite_id: suiteId },
  };
  const response =
    via === 'main'
      ? await t.inject(request)
      : await other.app!.inject({ ...request, headers: t.authHeaders() });
  expect(response.statusCode, response.body).toBe(202);
  return response.json<{ execution_id: number }>().execution_id;
}

const finishedOf = (executionId: number) => (event: RunEvent) =>
  event.type === 'execution.finished' && event.execution_id === executionId;

function expectContiguous(events: RunEvent[], from = 1) {
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => from + index));
}

const echoCases = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    name: `echo-${index}`,
    skill_name: 'echo',
    params: { message: `hello ${index}` },
  }));

describe('live run events', () => {
  it('shows a client every event of a run, in order, each case from queued to finished', async () => {
    const suiteId = await suiteOf('live-order', echoCases(3));
    const watcher = await client();
    const executionId = await trigger(suiteId);
    const ack = await watcher.subscribe({ execution_id: executionId });
    expect(ack.ok).toBe(true);
    await watcher.waitForEvent(finishedOf(executionId), 'the run to finish');

    const events = watcher.events.filter((event) => event.execution_id === executionId);
    expectContiguous(events);
    expect(events[0]).toMatchObject({
      type: 'execution.queued',
      suite_name: 'live-order',
      total_tests: 3,
    });
    expect(events[1]).toMatchObject({ type: 'execution.started' });
    expect(events.at(-1)).toMatchObject({
      type: 'execution.finished',
      status: 'passed',
      passed_tests: 3,
    });
    for (let index = 0; index < 3; index++) {
      const ofCase = events
        .filter((event) => 'case_name' in event && event.case_name === `echo-${index}`)
        .map((event) => event.type);
      expect(ofCase).toEqual([
        'case.queued',
        'case.started',
        'step.started',
        'log',
        'step.finished',
        'case.finished',
      ]);
    }
    const log = events.find((event) => event.type === 'log' && event.case_name === 'echo-1');
    expect(log).toMatchObject({ entry: { level: 'info', message: 'hello 1' } });
    const caseFinished = events.find((event) => event.type === 'case.finished');
    expect(caseFinished).toMatchObject({ status: 'passed', will_retry: false, attempt: 1 });
    expect(caseFinished && 'result_id' in caseFinished && caseFinished.result_id).toBeGreaterThan(
      0,
    );
  });

  it('replays to a late joiner from its seq, then goes on live with no gap or duplicate', async () => {
    const suiteId = await suiteOf(
      'live-late',
      Array.from({ length: 6 }, (_, index) => ({
        name: `wait-${index}`,
        skill_name: 'wait',
        params: { ms: 150 },
      })),
      1,
    );
    const executionId = await trigger(suiteId);
    const early = await client();
    await early.subscribe({ execution_id: executionId });
    // Join while the run is half way: some events stored, more to come.
    await early.waitForEvent(
      (event) => event.type === 'case.finished' && event.case_name === 'wait-2',
      'the third case to finish',
    );
    const late = await client();
    const ack = await late.subscribe({ execution_id: executionId, from_seq: 4 });
    expect(ack).toMatchObject({ ok: true });
    expect(ack.ok && ack.last_seq).toBeGreaterThanOrEqual(4);
    await late.waitForEvent(finishedOf(executionId), 'the late joiner to see the end');
    await early.waitForEvent(finishedOf(executionId), 'the early watcher to see the end');

    expectContiguous(late.events, 4);
    expect(late.events).toEqual(early.events.slice(3));
    expect(late.events.filter((event) => event.type === 'case.finished')).toHaveLength(6);
  });

  it('serves a client of one API process a run started through another', async () => {
    const suiteId = await suiteOf('live-cluster', echoCases(2));
    const executionId = await trigger(suiteId, 'other');
    const watcher = await client();
    // The client is on the first process; the run came in through the second.
    await watcher.subscribe({ execution_id: executionId });
    await watcher.waitForEvent(finishedOf(executionId), 'the run to finish');
    expectContiguous(watcher.events);

    const onOther = await connectLive({ ...t, runtime: other } as TestRuntime);
    clients.push(onOther);
    const ack = await onOther.subscribe({ execution_id: executionId });
    expect(ack).toEqual({ ok: true, last_seq: watcher.events.length });
    expect(onOther.events).toEqual(watcher.events);
  });

  it('sends dashboard ticks to every API process and execution events to the dashboard room', async () => {
    const here = await client();
    const there = await connectLive({ ...t, runtime: other } as TestRuntime);
    clients.push(there);
    expect(await here.dashboard()).toMatchObject({ ok: true });
    expect(await there.dashboard()).toMatchObject({ ok: true });
    const suiteId = await suiteOf('live-dashboard', echoCases(1));
    const executionId = await trigger(suiteId);
    await here.waitForEvent(finishedOf(executionId), 'the dashboard to hear the run finish');
    expect(here.events.every((event) => event.type.startsWith('execution.'))).toBe(true);
    const ticks = await waitFor(
      async () => (here.ticks.length >= 2 && there.ticks.length >= 2 ? here.ticks : undefined),
      { what: 'dashboard ticks on both processes' },
    );
    expect(ticks.at(-1)).toMatchObject({ type: 'dashboard.tick', workers_online: 1 });
    expect(Object.keys(ticks.at(-1)!.queues)).toContain('api');
    // One process computes each tick; both rooms get the same one.
    const seqs = new Set(there.ticks.map((tick) => tick.seq));
    expect(ticks.some((tick) => seqs.has(tick.seq))).toBe(true);
  });

  it('refuses a handshake without the live token and a run that does not exist', async () => {
    await expect(connectLive(t, { token: 'wrong-token-wrong-token' })).rejects.toThrow(/not valid/);
    const watcher = await client();
    expect(await watcher.subscribe({ execution_id: 999_999 })).toEqual({
      ok: false,
      error: 'execution 999999 was not found',
    });
    expect(await watcher.subscribe({ execution_id: -1 } as never)).toMatchObject({ ok: false });
  });

  it('keeps running when a client stops reading', async () => {
    const suiteId = await suiteOf(
      'live-slow',
      Array.from({ length: 4 }, (_, index) => ({
        name: `chatty-${index}`,
        skill_name: 'echo',
        params: { message: 'x'.repeat(20_000) },
      })),
    );
    const executionId = await trigger(suiteId);
    const stalled = await client();
    await stalled.subscribe({ execution_id: executionId });
    // Stop reading from the TCP socket: what the server sends piles up on its side.
    const engine = stalled.socket.io.engine as unknown as {
      transport: { ws: { _socket: { pause(): void; destroy(): void } } };
    };
    const tcp = engine.transport.ws._socket;
    tcp.pause();
    onTestFinished(() => tcp.destroy());
    const reader = await client();
    await reader.subscribe({ execution_id: executionId });
    const end = await reader.waitForEvent(finishedOf(executionId), 'the run to finish');
    expect(end).toMatchObject({ status: 'passed' });
    expectContiguous(reader.events);
  });

  // Timed out at 20 s: the HTTP server used to wait 30 s for such a connection.
  it(
    'shuts down without waiting long for a client that never answers the closing handshake',
    { timeout: 20_000 },
    async () => {
      const config = loadConfig({ ...t.env, PORT: String(await closedPort()) });
      const api = await startRuntime(
        config,
        { api: true, workers: [], listen: true },
        createLogger(config, 'test'),
      );
      const { hostname, port, host } = new URL(api.url!);
      const silent = connect(Number(port), hostname);
      onTestFinished(() => void silent.destroy());
      // A WebSocket client that reads what it is sent and never answers anything.
      silent.write(
        `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      const upgraded = await new Promise<string>((resolve) =>
        silent.once('data', (data) => resolve(String(data))),
      );
      expect(upgraded).toMatch(/^HTTP\/1\.1 101/);
      silent.resume();
      const closedByServer = new Promise<void>((resolve) => silent.once('close', () => resolve()));
      await api.close();
      await closedByServer;
    },
  );

  it('streams browser frames only while someone watches with frames on', async () => {
    const suiteId = await suiteOf('live-frames', [
      {
        name: 'busy-page',
        skill_name: 'browser-flow',
        params: {
          steps: [
            { action: 'goto', url: `${fixture.url}/busy` },
            { action: 'wait_for', selector: '#done', timeout_ms: 60_000 },
          ],
        },
        timeout_seconds: 90,
      },
    ]);
    const executionId = await trigger(suiteId);
    // What the workers publish, whoever relays it.
    const published: string[] = [];
    const tap = new Redis(TEST_REDIS_URL);
    onTestFinished(() => void tap.disconnect());
    tap.on('message', (_channel: string, message: string) => published.push(message));
    await tap.subscribe(new LiveKeys(t.config.queuePrefix).framesChannel(executionId));
    const plain = await client();
    await plain.subscribe({ execution_id: executionId });
    const watcher = await client();
    await watcher.subscribe({ execution_id: executionId, frames: true });
    await waitFor(async () => (watcher.frames.length >= 3 ? true : undefined), {
      what: 'live frames',
      timeoutMs: 45_000,
    });
    const frame = watcher.frames[0]!;
    expect(frame).toMatchObject({
      type: 'browser.frame',
      execution_id: executionId,
      case_name: 'busy-page',
    });
    expect(Buffer.from(frame.data, 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(frame.width).toBeGreaterThan(100);
    expect(watcher.frames.map((f) => f.frame)).toEqual(
      [...watcher.frames.map((f) => f.frame)].sort((a, b) => a - b),
    );

    // Nobody watches any more: the worker notices within its poll and stops casting.
    await watcher.unsubscribe(executionId);
    const received = watcher.frames.length;
    let seen = -1;
    await waitFor(
      async () => {
        const now = published.length;
        const settled = now === seen;
        seen = now;
        return settled ? true : undefined;
      },
      { what: 'the worker to stop publishing frames', intervalMs: 2_500 },
    );
    expect(watcher.frames.length).toBe(received);
    expect(plain.frames).toEqual([]);

    pageDone = true;
    const end = await plain.waitForEvent(finishedOf(executionId), 'the browser run to finish');
    expect(end).toMatchObject({ status: 'passed' });
  });
});
