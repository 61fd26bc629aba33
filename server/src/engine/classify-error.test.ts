import assert from 'node:assert';
import { describe, expect, it } from 'vitest';
import { AssertionFailedError, NetworkError, SkillError, TimeoutError } from '@webguard/shared';
import { classifyError, statusForErrorType } from './classify-error.js';

function withCode(message: string, code: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

describe('classifyError', () => {
  it('takes the error type a SkillError declares and maps it to a status', () => {
    expect(classifyError(new AssertionFailedError('status was 500'))).toMatchObject({
      errorType: 'assertion',
      status: 'failed',
      message: 'status was 500',
    });
    expect(classifyError(new TimeoutError('too slow'))).toMatchObject({
      errorType: 'timeout',
      status: 'timeout',
    });
    expect(classifyError(new NetworkError('refused'))).toMatchObject({
      errorType: 'network',
      status: 'failed',
    });
    expect(classifyError(new SkillError('system', 'bad metric'))).toMatchObject({
      errorType: 'system',
      status: 'error',
    });
  });

  it('recognises a SkillError from another copy of the SDK by its errorType', () => {
    const foreign = Object.assign(new Error('expected 1, got 2'), {
      name: 'SkillError',
      errorType: 'assertion',
    });
    expect(classifyError(foreign)).toMatchObject({ errorType: 'assertion', status: 'failed' });
  });

  it('treats connection failures as network errors, also when wrapped in a cause', () => {
    expect(
      classifyError(withCode('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED')),
    ).toMatchObject({
      errorType: 'network',
      status: 'failed',
      message: 'connect ECONNREFUSED 127.0.0.1:9',
      stack: null,
    });
    const wrapped = new TypeError('fetch failed', {
      cause: withCode('getaddrinfo ENOTFOUND nowhere.invalid', 'ENOTFOUND'),
    });
    expect(classifyError(wrapped)).toMatchObject({
      errorType: 'network',
      message: 'fetch failed: getaddrinfo ENOTFOUND nowhere.invalid',
    });
    for (const code of [
      'ECONNRESET',
      'EAI_AGAIN',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_SOCKET',
    ]) {
      expect(classifyError(withCode('boom', code)).errorType, code).toBe('network');
    }
  });

  it('treats TLS certificate and handshake failures as network errors', () => {
    for (const code of [
      'CERT_HAS_EXPIRED',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
    ]) {
      expect(classifyError(withCode('tls failed', code)).errorType, code).toBe('network');
    }
  });

  it('treats node:assert and other AssertionErrors as assertions, keeping the stack', () => {
    let thrown: unknown;
    try {
      assert.strictEqual(1, 2);
    } catch (error) {
      thrown = error;
    }
    const classified = classifyError(thrown);
    expect(classified).toMatchObject({ errorType: 'assertion', status: 'failed' });
    expect(classified.stack).toContain('AssertionError');

    const chai = Object.assign(new Error('expected 1 to equal 2'), { name: 'AssertionError' });
    expect(classifyError(chai).errorType).toBe('assertion');
  });

  it('treats aborts and slow responses as timeouts', () => {
    expect(
      classifyError(new DOMException('The operation timed out.', 'TimeoutError')),
    ).toMatchObject({
      errorType: 'timeout',
      status: 'timeout',
    });
    expect(
      classifyError(new DOMException('This operation was aborted', 'AbortError')).errorType,
    ).toBe('timeout');
    expect(
      classifyError(withCode('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT')).errorType,
    ).toBe('timeout');
  });

  it('treats anything else as a system error and keeps its stack', () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'id')");
    const classified = classifyError(error);
    expect(classified).toMatchObject({
      errorType: 'system',
      status: 'error',
      message: error.message,
    });
    expect(classified.stack).toBe(error.stack);
  });

  it('describes values that are not errors', () => {
    expect(classifyError('plain string')).toMatchObject({
      errorType: 'system',
      message: 'skill threw a non-Error value: plain string',
    });
    expect(classifyError({ reason: 42 }).message).toBe(
      'skill threw a non-Error value: {"reason":42}',
    );
    expect(classifyError(undefined).message).toBe('skill threw a non-Error value: undefined');
  });

  it('survives a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    expect(classifyError(a)).toMatchObject({ errorType: 'system', message: 'a: b' });
  });

  it('maps every error type to a status', () => {
    expect(statusForErrorType('assertion')).toBe('failed');
    expect(statusForErrorType('timeout')).toBe('timeout');
    expect(statusForErrorType('network')).toBe('failed');
    expect(statusForErrorType('system')).toBe('error');
  });
});
