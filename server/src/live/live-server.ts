import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import {
  LIVE_NAMESPACE,
  SubscribeRun,
  UnsubscribeRun,
  type LiveAck,
  type LiveClientToServerEvents,
  type LiveServerToClientEvents,
  type RunEvent,
} from '@webguard/shared';
import type { RedisHandle } from '../redis/index.js';
import { DashboardTicker, type ClusterSnapshot } from './dashboard-ticker.js';
import type { LiveKeys } from './keys.js';
import { framesRoom, RunFeeds, type LiveSocket } from './run-feeds.js';
import { handshakeToken, type LiveAuthenticator, type LivePrincipal } from './socket-auth.js';

export const DASHBOARD_ROOM = 'dashboard';

export interface LiveServerOptions {
  /** Fastify's HTTP server: Socket.IO shares its port. */
  httpServer: HttpServer;
  redis: RedisHandle;
  keys: LiveKeys;
  authenticate: LiveAuthenticator;
  /** Whether a run exists (and, later, whether this principal may see it). */
  canWatch: (executionId: number, principal: LivePrincipal) => Promise<boolean>;
  snapshot: () => Promise<ClusterSnapshot>;
  tickMs: number;
  logger: Logger;
}

export interface LiveServer {
  io: Server;
  close(): Promise<void>;
}

/** How long clients get to answer the closing handshake before their connection is cut. */
const CLOSE_GRACE_MS = 2_000;

/** Waits for the connections to close, up to `graceMs`, then destroys those still open. */
async function closeUpgraded(sockets: Set<Duplex>, graceMs: number): Promise<void> {
  const closed = [...sockets].map(
    (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(closed),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
  ]);
  clearTimeout(timer);
  for (const socket of sockets) socket.destroy();
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Socket.IO on the API's port, namespace `/live`. Run events are relayed per client (see
 * RunFeeds); frames and dashboard ticks go to rooms; the Redis adapter lets a tick computed on
 * one API node reach the dashboard clients of every node.
 */
export async function startLiveServer(options: LiveServerOptions): Promise<LiveServer> {
  const { redis, keys, logger } = options;
  const nodeId = randomUUID();
  const log = logger.child({ component: 'live' });

  // 1. The server and its adapter: every node sees rooms of the whole cluster.
  const adapterPub = redis.createConnection('live-adapter-pub');
  const adapterSub = redis.createConnection('live-adapter-sub');
  const io = new Server<LiveClientToServerEvents, LiveServerToClientEvents>(options.httpServer, {
    serveClient: false,
    adapter: createAdapter(adapterPub, adapterSub, { key: keys.adapter }),
  });
  const live = io.of(LIVE_NAMESPACE);
  // The connections upgraded to WebSocket, to end those whose client never answers the closing
  // handshake: the HTTP server's close waits for every one of them (30 s, ws's limit, each).
  const upgraded = new Set<Duplex>();
  const track = (_request: unknown, socket: Duplex): void => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  };
  options.httpServer.on('upgrade', track);

  // 2. Relays: each run's events per client, frames and execution events to rooms.
  const reader = redis.createConnection('live-reader');
  const subscriber = redis.createConnection('live-subscriber');
  const feeds = new RunFeeds({
    subscriber,
    redis: reader,
    keys,
    nodeId,
    relayFrame: (frame) =>
      live.to(framesRoom(frame.execution_id)).local.volatile.emit('run:frame', frame),
    logger: log,
  });
  const executionsSubscriber = redis.createConnection('live-executions-subscriber');
  executionsSubscriber.on('message', (_channel: string, message: string) =>
    live.to(DASHBOARD_ROOM).local.emit('run:event', JSON.parse(message) as RunEvent),
  );
  await executionsSubscriber.subscribe(keys.executionsChannel);
  const ticker = new DashboardTicker({
    redis: reader,
    keys,
    nodeId,
    intervalMs: options.tickMs,
    snapshot: options.snapshot,
    broadcast: (tick) => live.to(DASHBOARD_ROOM).emit('dashboard:tick', tick),
    logger: log,
  });

  // 3. The handshake: one check, in socket-auth.
  live.use((socket, next) => {
    options
      .authenticate(handshakeToken(socket.handshake))
      .then((result) => {
        if (!result.ok) return next(new Error(result.error));
        (socket.data as { principal?: LivePrincipal }).principal = result.principal;
        next();
      })
      .catch((error: unknown) => next(new Error(`authentication failed: ${describe(error)}`)));
  });

  // 4. What a client may ask.
  live.on('connection', (socket: LiveSocket) => {
    const principal = (socket.data as { principal: LivePrincipal }).principal;
    const guard = (ack: unknown, work: () => Promise<LiveAck>) => {
      if (typeof ack !== 'function') return;
      const reply = ack as (result: LiveAck) => void;
      work().then(reply, (error: unknown) => {
        log.warn({ err: error, socket: socket.id }, 'live request failed');
        reply({ ok: false, error: `the server could not do that: ${describe(error)}` });
      });
    };
    socket.on('run:subscribe', (request, ack) =>
      guard(ack, async () => {
        const parsed = SubscribeRun.safeParse(request);
        if (!parsed.success)
          return { ok: false, error: `invalid run:subscribe: ${parsed.error.issues[0]?.message}` };
        const { execution_id, from_seq, frames } = parsed.data;
        if (!(await options.canWatch(execution_id, principal)))
          return { ok: false, error: `execution ${execution_id} was not found` };
        return feeds.watch(socket, execution_id, from_seq, frames);
      }),
    );
    socket.on('run:unsubscribe', (request, ack) =>
      guard(ack, () => {
        const parsed = UnsubscribeRun.safeParse(request);
        if (!parsed.success)
          return Promise.resolve({
            ok: false,
            error: `invalid run:unsubscribe: ${parsed.error.issues[0]?.message}`,
          });
        feeds.unwatch(socket, parsed.data.execution_id);
        return Promise.resolve({ ok: true, last_seq: 0 });
      }),
    );
    socket.on('dashboard:subscribe', (ack) =>
      guard(ack, async () => {
        await socket.join(DASHBOARD_ROOM);
        const latest = await ticker.latest();
        if (latest) socket.emit('dashboard:tick', latest);
        return { ok: true, last_seq: latest?.seq ?? 0 };
      }),
    );
    socket.on('dashboard:unsubscribe', (ack) =>
      guard(ack, async () => {
        await socket.leave(DASHBOARD_ROOM);
        return { ok: true, last_seq: 0 };
      }),
    );
    socket.on('disconnect', () => feeds.forget(socket));
  });
  log.info({ namespace: LIVE_NAMESPACE, node: nodeId }, 'live server ready');

  return {
    io,
    async close() {
      await ticker.close();
      await feeds.close();
      // Only this node's clients, and not the HTTP server: Fastify closes that afterwards.
      live.local.disconnectSockets(true);
      io.engine.close();
      await Promise.allSettled([live.adapter.close(), io.of('/').adapter.close()]);
      options.httpServer.off('upgrade', track);
      await closeUpgraded(upgraded, CLOSE_GRACE_MS);
      for (const connection of [adapterPub, adapterSub, reader, subscriber, executionsSubscriber])
        connection.disconnect();
    },
  };
}
