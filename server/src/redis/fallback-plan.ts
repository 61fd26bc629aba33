import type { ProbeResult } from './probe.js';
import { isLoopback, redactUrl, redisPort } from './redis-url.js';

type ProbeFailure = Exclude<ProbeResult, { outcome: 'answered' }>;

/** Where redis-server was looked for and what was found. */
export interface RedisServerLookup {
  /** The executable, or undefined when none was found. */
  path: string | undefined;
  /** The path the caller asked for; undefined when PATH was searched. */
  requested: string | undefined;
}

export type FallbackPlan =
  | { start: true; redisServerPath: string; port: number; url: string }
  | { start: false; message: string };

const INSTALL_HINT =
  'install Redis (e.g. "apt-get install redis-server" or "brew install redis") or set REDIS_URL.';

/**
 * Decides, without touching the network, whether WebGuard may start its own Redis for `url`
 * after a failed probe. It only does so where the result is indistinguishable from what the user
 * asked for: a plain, password-less Redis on this machine, on the port the URL names, so other
 * WebGuard processes configured with the same URL find it too.
 */
export function planFallback(
  url: URL,
  probe: ProbeFailure,
  redisServer: RedisServerLookup,
): FallbackPlan {
  const shown = redactUrl(url.toString());
  const port = redisPort(url);
  if (probe.outcome === 'rejected') {
    return {
      start: false,
      message: `Redis at ${shown} refused WebGuard (${probe.reason}): fix the credentials in REDIS_URL or the Redis ACL.`,
    };
  }

  const unreachable = `Redis is not reachable at ${shown} (${probe.reason})`;
  const refuse = (why: string): FallbackPlan => ({
    start: false,
    message: `${unreachable} and ${why}`,
  });
  if (!isLoopback(url)) {
    return refuse(
      'WebGuard only starts its own Redis for a local address: start Redis there or set REDIS_URL.',
    );
  }
  if (url.protocol === 'rediss:') {
    return refuse(
      "WebGuard's own Redis cannot serve a rediss:// (TLS) URL: start that Redis or set REDIS_URL.",
    );
  }
  if (url.username !== '' || url.password !== '') {
    return refuse(
      'WebGuard will not stand in for a Redis that needs credentials: start that Redis or set REDIS_URL.',
    );
  }
  if (probe.outcome === 'no-answer') {
    return refuse(
      `something holds port ${port} but does not answer as Redis: stop it or set REDIS_URL to another port.`,
    );
  }
  if (redisServer.path === undefined) {
    return refuse(
      redisServer.requested === undefined
        ? `no redis-server is on PATH: ${INSTALL_HINT}`
        : `there is no executable redis-server at ${redisServer.requested}: ${INSTALL_HINT}`,
    );
  }

  // Our server binds 127.0.0.1 only, so name that address even when the URL said localhost or ::1.
  const privateUrl = new URL(url);
  privateUrl.hostname = '127.0.0.1';
  return { start: true, redisServerPath: redisServer.path, port, url: privateUrl.toString() };
}
