import type { ErrorCode } from '@webguard/shared';

/** An error meant for the API client: its status, code and message are sent as they are. */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string, id: number | string) =>
  new AppError(404, 'NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist`);

export const conflict = (message: string) => new AppError(409, 'CONFLICT', message);

/** True for a PostgreSQL unique violation, however the driver wrapped it. */
export function isUniqueViolation(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ((current as { code?: unknown }).code === '23505') return true;
  }
  return false;
}
