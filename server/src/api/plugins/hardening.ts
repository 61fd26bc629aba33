import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import { AppError } from '../../errors.js';

export interface HardeningOptions {
  /** Browser origins allowed to call the API; empty allows none. */
  corsOrigins: string[];
  /** Logins per minute per client address. */
  loginRateLimit: number;
  /** Triggers per minute per caller. */
  triggerRateLimit: number;
  /** Counters live here, so every API process shares one limit; absent keeps them in memory. */
  redis?: Redis | undefined;
  /** Key prefix of the counters in Redis. */
  keyPrefix: string;
}

/** Per-route limits, applied with `config: { rateLimit: app.limits.login }`. */
export interface RouteLimits {
  login: RateLimitOptions;
  trigger: RateLimitOptions;
  channelTest: RateLimitOptions;
}

/**
 * Test messages a caller may send per minute: each one reaches a real receiver (a Slack
 * channel, an inbox), so a script or a stuck button must not flood it.
 */
export const CHANNEL_TESTS_PER_MINUTE = 10;

declare module 'fastify' {
  interface FastifyInstance {
    limits: RouteLimits;
  }
}

const callerKey = (request: FastifyRequest) =>
  request.principal
    ? request.principal.kind === 'token'
      ? `token:${request.principal.tokenId}`
      : `user:${request.principal.userId}`
    : `ip:${request.ip}`;

/** Security headers, CORS from an allow-list and rate limits shared through Redis. */
export const hardening = fp(
  async (app: FastifyInstance, options: HardeningOptions) => {
    await app.register(helmet, {
      // Swagger UI at /docs runs inline scripts and styles; JSON responses ignore CSP anyway.
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'", "'unsafe-inline'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:'],
        },
      },
    });
    await app.register(cors, {
      origin: options.corsOrigins.length > 0 ? options.corsOrigins : false,
      methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: ['idempotent-replayed', 'retry-after', 'x-request-id'],
      maxAge: 600,
    });
    await app.register(rateLimit, {
      global: false,
      redis: options.redis,
      nameSpace: `${options.keyPrefix}:rate-limit:`,
      // When Redis is unreachable the API keeps answering; triggers fail on their own with 503.
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new AppError(
          429,
          'RATE_LIMITED',
          `too many requests: at most ${context.max} per minute; try again in ${context.after}`,
        ),
    });
    app.decorate('limits', {
      login: {
        max: options.loginRateLimit,
        timeWindow: 60_000,
        groupId: 'login',
        keyGenerator: (request: FastifyRequest) => `ip:${request.ip}`,
      },
      trigger: {
        max: options.triggerRateLimit,
        timeWindow: 60_000,
        groupId: 'trigger',
        keyGenerator: callerKey,
      },
      channelTest: {
        max: CHANNEL_TESTS_PER_MINUTE,
        timeWindow: 60_000,
        groupId: 'channel-test',
        keyGenerator: callerKey,
      },
    });
  },
  { name: 'hardening', dependencies: ['error-handler'] },
);
