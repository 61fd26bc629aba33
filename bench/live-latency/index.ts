/**
 * bench/live-latency: a run of 50 browser cases (open a local page, fill a form, check the
 * answer, take a screenshot) watched over Socket.IO `/live` by a socket.io-client, as the
 * desktop watches it.
 * - Latency: from the moment a worker stamps an event (its `time`) to the moment the client
 *   receives it, for every event that arrived live (replayed ones are left out); p50 and p95.
 * - Cost of watching: the same run's wall time watched with live browser frames on, against
 *   unwatched; rounds alternate so neither gets a warmer machine. The ratio is watched/unwatched.
 * Usage: npm run build && npm run bench -- live-latency [--cases 50] [--rounds 2] [--fps 2]
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { RunEvent } from '@webguard/shared';
import { closedPort } from '../../server/test/support/closed-port.js';
import { connectLive, type LiveClient } from '../../server/test/support/live-client.js';
import { startTestRuntime, type TestRuntime } from '../../server/test/support/test-runtime.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    fps: { type: 'string', default: '2' },
  },
});
const CASES = Number(values.cases);
const ROUNDS = Number(values.rounds);

// A form, and a spinner that keeps the page repainting so the screencast always has frames.
const PAGE = `<!doctype html><html><head><title>Sign up</title><style>
  @keyframes spin { to { transform: rotate(360deg) } }
  #spinner { width: 40px; height: 40px; border: 4px solid #ccc; border-top-color: #36c; border-radius: 50%; animation: spin 0.8s linear infinite }
  </style></head><body><div id="spinner"></div>
  <input id="name" aria-label="Name">
  <button onclick="document.querySelector('#greeting').textContent = 'Hello ' + document.querySelector('#name').value">Greet</button>
  <p id="greeting"></p></body></html>`;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
};
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

async function suiteOf(t: TestRuntime, name: string, url: string, cases = CASES): Promise<number> {
  const post = async (path: string, payload: object) => {
    const response = await t.inject({ method: 'POST', url: path, payload });
    if (response.statusCode >= 300) throw new Error(`${path}: ${response.body}`);
    return response.json<{ id: number }>();
  };
  const suite = await post('/api/v1/suites', { name, max_concurrent_tests: cases });
  for (let index = 0; index < cases; index++) {
    await post(`/api/v1/suites/${suite.id}/cases`, {
      name: `case ${index}`,
      skill_name: 'browser-flow',
      params: {
        steps: [
          { action: 'goto', url },
          { action: 'fill', selector: '#name', value: `user ${index}` },
          { action: 'click', selector: 'text=Greet' },
          { action: 'expect_text', selector: '#greeting', text: `Hello user ${index}` },
          { action: 'screenshot', name: 'greeted' },
        ],
      },
    });
  }
  return suite.id;
}

interface Round {
  wallMs: number;
  latencies: number[];
  frames: number;
}

/** Triggers the suite and waits for its end; watched, the client records what it receives. */
async function runOnce(t: TestRuntime, suiteId: number, watcher?: LiveClient): Promise<Round> {
  const latencies: number[] = [];
  let frames = 0;
  let replayedUpTo = Number.POSITIVE_INFINITY;
  let executionId = 0;
  let finished: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const onEvent = (event: RunEvent) => {
    if (event.execution_id !== executionId) return;
    if (event.seq > replayedUpTo) latencies.push(Date.now() - Date.parse(event.time));
    if (event.type === 'execution.finished') finished();
  };
  const onFrame = () => frames++;
  watcher?.socket.on('run:event', onEvent);
  watcher?.socket.on('run:frame', onFrame);

  const started = performance.now();
  const triggered = await t.inject({
    method: 'POST',
    url: '/api/v1/executions',
    payload: { suite_id: suiteId },
  });
  if (triggered.statusCode !== 202) throw new Error(`trigger: ${triggered.body}`);
  executionId = triggered.json<{ execution_id: number }>().execution_id;
  if (watcher) {
    const ack = await watcher.subscribe({ execution_id: executionId, frames: true });
    if (!ack.ok) throw new Error(`subscribe: ${ack.error}`);
    replayedUpTo = ack.last_seq;
    await done;
  } else {
    for (;;) {
      const execution = (await t.inject(`/api/v1/executions/${executionId}`)).json<{
        completed_at: string | null;
      }>();
      if (execution.completed_at) break;
      // Polled gently, as the watched side waits without polling at all.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const wallMs = performance.now() - started;
  watcher?.socket.off('run:event', onEvent);
  watcher?.socket.off('run:frame', onFrame);
  if (watcher) await watcher.unsubscribe(executionId);
  const execution = (await t.inject(`/api/v1/executions/${executionId}`)).json<{
    passed_tests: number;
  }>();
  const total = (await t.inject(`/api/v1/executions/${executionId}`)).json<{
    total_tests: number;
  }>().total_tests;
  if (execution.passed_tests !== total)
    throw new Error(`only ${execution.passed_tests} of ${total} cases passed`);
  return { wallMs, latencies, frames };
}

const server: Server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
const t = await startTestRuntime(
  {
    HOST: '127.0.0.1',
    PORT: String(await closedPort()),
    WEBGUARD_FRAME_FPS: values.fps,
    WEBGUARD_LIVE_TOKEN: 'bench-live-token-0123456789',
    LOG_LEVEL: 'warn',
  },
  { listen: true, workers: ['executions', 'browser'] },
);
const watcher = await connectLive(t);
try {
  const suiteId = await suiteOf(t, 'live-latency', url);
  // Warm-up: Chromium launched, code paths compiled, on both paths.
  await runOnce(t, await suiteOf(t, 'warm-up', url, 4), watcher);

  const watched: Round[] = [];
  const unwatched: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    unwatched.push(await runOnce(t, suiteId));
    watched.push(await runOnce(t, suiteId, watcher));
    console.log(
      `round ${round}: unwatched ${Math.round(unwatched.at(-1)!.wallMs)} ms, watched ${Math.round(watched.at(-1)!.wallMs)} ms (${watched.at(-1)!.frames} frames, ${watched.at(-1)!.latencies.length} live events)`,
    );
  }
  const latencies = watched.flatMap((round) => round.latencies);
  const watchedMs = mean(watched.map((round) => round.wallMs));
  const unwatchedMs = mean(unwatched.map((round) => round.wallMs));
  console.log(
    `live-latency: cases=${CASES} rounds=${ROUNDS} fps=${values.fps}` +
      ` events=${latencies.length} frames=${watched.reduce((sum, round) => sum + round.frames, 0)}` +
      ` p50_ms=${percentile(latencies, 0.5)} p95_ms=${percentile(latencies, 0.95)}` +
      ` watched_ms=${Math.round(watchedMs)} unwatched_ms=${Math.round(unwatchedMs)}` +
      ` ratio=${(watchedMs / unwatchedMs).toFixed(2)}`,
  );
} finally {
  watcher.close();
  await t.stop();
  server.close();
}
