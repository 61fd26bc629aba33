import type { ErrorType } from '../status.js';

/**
 * An error that says how the engine should classify it. Skills throw these (or let the SDK
 * throw them) so a failed check is told apart from a broken network or a broken skill.
 */
export class SkillError extends Error {
  readonly errorType: ErrorType;

  constructor(errorType: ErrorType, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SkillError';
    this.errorType = errorType;
  }
}

/** A check that did not hold: the case ends `failed` with error_type `assertion`. */
export class AssertionFailedError extends SkillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('assertion', message, options);
    this.name = 'AssertionFailedError';
  }
}

/** The target could not be reached (DNS, refused, reset, TLS): error_type `network`. */
export class NetworkError extends SkillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('network', message, options);
    this.name = 'NetworkError';
  }
}

/** The case ran out of time: error_type `timeout`. */
export class TimeoutError extends SkillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('timeout', message, options);
    this.name = 'TimeoutError';
  }
}
