import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { ApiError, ErrorCode } from '@webguard/shared';
import { AppError } from '../../errors.js';

const send = (
  code: ErrorCode,
  message: string,
  details?: ApiError['error']['details'],
): ApiError => ({
  error: details ? { code, message, details } : { code, message },
});

/** Seconds a client is asked to wait after a 503; a restarting Redis is usually back by then. */
const RETRY_AFTER_SECONDS = '5';

/** Fastify's own client errors, mapped to our codes with a message a person can act on. */
const FASTIFY_CLIENT_ERRORS: Record<
  string,
  { code: ErrorCode; message: (error: FastifyError) => string }
> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    code: 'INVALID_JSON',
    message: (e) => `the request body is not valid JSON: ${e.message}`,
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'INVALID_JSON',
    message: () => 'the request says it carries JSON but the body is empty',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    code: 'PAYLOAD_TOO_LARGE',
    message: () => 'the request body is larger than the server accepts',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: () => 'send the body as JSON with "Content-Type: application/json"',
  },
};

/** `/body/params/url` → `params.url`; the root of a part is named by the part itself. */
function fieldPath(context: string | undefined, instancePath: string): string {
  const path = instancePath.split('/').filter(Boolean).join('.');
  const part = context === 'querystring' ? 'query' : (context ?? 'body');
  return path ? `${part === 'body' ? '' : `${part}.`}${path}` : `(${part})`;
}

/** One error shape for every failure; 5xx bodies never carry internals. */
export const errorHandler = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (hasZodFastifySchemaValidationErrors(error)) {
        // The package types its issues via a fastify subpath that NodeNext resolution cannot see.
        const issues = error.validation as FastifySchemaValidationError[];
        const details = issues.map((issue) => ({
          path: fieldPath(error.validationContext, issue.instancePath),
          message: issue.message ?? 'is invalid',
        }));
        const summary = details.map((detail) => `${detail.path}: ${detail.message}`).join('; ');
        return reply
          .code(400)
          .send(send('VALIDATION_FAILED', `invalid request: ${summary}`, details));
      }
      if (error instanceof AppError) {
        // A dependency is down (Redis, the database): tell clients and proxies when to try again.
        if (error.statusCode === 503) reply.header('retry-after', RETRY_AFTER_SECONDS);
        return reply.code(error.statusCode).send(send(error.code, error.message, error.details));
      }
      const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined;
      if (known) {
        return reply.code(error.statusCode ?? 400).send(send(known.code, known.message(error)));
      }
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        return reply.code(error.statusCode).send(send('VALIDATION_FAILED', error.message));
      }
      request.log.error({ err: error }, 'request failed');
      return reply
        .code(500)
        .send(
          send('INTERNAL', 'the server failed to handle this request; see its log for details'),
        );
    });

    app.setNotFoundHandler((request, reply) =>
      reply
        .code(404)
        .send(send('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
    );
  },
  { name: 'error-handler' },
);
