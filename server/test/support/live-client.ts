import { io, type Socket } from 'socket.io-client';
import {
  LIVE_NAMESPACE,
  type BrowserFrame,
  type DashboardTick,
  type LiveAck,
  type LiveClientToServerEvents,
  type LiveServerToClientEvents,
  type RunEvent,
  type SubscribeRun,
} from '@webguard/shared';
import type { TestRuntime } from './test-runtime.js';
import { waitFor } from './wait-for.js';

export type LiveClientSocket = Socket<LiveServerToClientEvents, LiveClientToServerEvents>;

/** A Socket.IO client of `/live` that keeps everything it receives, for assertions. */
export interface LiveClient {
  socket: LiveClientSocket;
  events: RunEvent[];
  frames: BrowserFrame[];
  ticks: DashboardTick[];
  subscribe(request: SubscribeRun): Promise<LiveAck>;
  unsubscribe(executionId: number): Promise<LiveAck>;
  dashboard(): Promise<LiveAck>;
  /** Waits until an event matching `match` has arrived. */
  waitForEvent(match: (event: RunEvent) => boolean, what: string): Promise<RunEvent>;
  close(): void;
}

/** Settings a test runtime needs to serve `/live` on a real port, with fast dashboard ticks. */
export const LIVE_TEST_ENV = {
  HOST: '127.0.0.1',
  WEBGUARD_LIVE_TOKEN: 'live-token-for-tests-only',
  WEBGUARD_LIVE_TICK_MS: '300',
};

/**
 * Connects to a listening test runtime with the credentials tests use everywhere: the API's auth
 * headers and the live token, so whichever check the server applies, the client passes it.
 */
export async function connectLive(
  t: TestRuntime,
  options: { token?: string; autoConnect?: boolean } = {},
): Promise<LiveClient> {
  const url = t.runtime.url;
  if (!url) throw new Error('the test runtime does not listen; start it with { listen: true }');
  const token = options.token ?? t.config.observability.liveToken;
  const socket: LiveClientSocket = io(`${url}${LIVE_NAMESPACE}`, {
    transports: ['websocket'],
    extraHeaders: t.authHeaders(),
    auth: token === undefined ? {} : { token },
    reconnection: false,
  });
  const client: LiveClient = {
    socket,
    events: [],
    frames: [],
    ticks: [],
    subscribe: (request) => socket.emitWithAck('run:subscribe', request),
    unsubscribe: (executionId) =>
      socket.emitWithAck('run:unsubscribe', { execution_id: executionId }),
    dashboard: () => socket.emitWithAck('dashboard:subscribe'),
    waitForEvent: (match, what) =>
      waitFor(async () => client.events.find(match), { what, timeoutMs: 30_000, intervalMs: 20 }),
    close: () => void socket.disconnect(),
  };
  socket.on('run:event', (event) => client.events.push(event));
  socket.on('run:frame', (frame) => client.frames.push(frame));
  socket.on('dashboard:tick', (tick) => client.ticks.push(tick));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return client;
}
