import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './backoff.js';
import { createMasker, maskJson } from '../engine/masking.js';
import {
  referencedCases,
  resolveReferences,
  UnresolvedReferenceError,
} from './param-references.js';
import { SecretBox } from './secret-box.js';
import { compareDispatchOrder, resolveDependencies } from './workflow-graph.js';

const node = (name: string, dependsOn: string[] = [], group: string | null = null) => ({
  name,
  dependsOn,
  group,
});

describe('resolveDependencies', () => {
  it('expands groups into their cases', () => {
    const { edges, problems } = resolveDependencies([
      node('login'),
      node('cart', ['login'], 'checks'),
      node('search', ['login'], 'checks'),
      node('cleanup', ['checks']),
    ]);
    expect(problems).toEqual([]);
    expect(edges.get('cleanup')?.sort()).toEqual(['cart', 'search']);
  });

  it('names unknown, ambiguous and self references', () => {
    const { problems } = resolveDependencies([
      node('a', ['nope']),
      node('b', ['b']),
      node('x', [], 'a'),
      node('c', ['a']),
    ]);
    expect(problems).toEqual([
      { path: 'a', message: 'depends_on "nope" is not a case or group of this suite' },
      { path: 'b', message: 'a case cannot depend on itself' },
      { path: 'c', message: 'depends_on "a" names both a case and a group; rename one' },
    ]);
  });

  it('finds a cycle and names the cases on it', () => {
    const { problems } = resolveDependencies([
      node('a', ['c']),
      node('b', ['a']),
      node('c', ['b']),
      node('d'),
    ]);
    expect(problems).toEqual([{ path: 'a', message: 'dependency cycle: a → c → b → a' }]);
  });
});

describe('compareDispatchOrder', () => {
  it('puts priority, then last failures, then long runners first', () => {
    const cases = [
      { name: 'fast', priority: 0, history: { failedLastTime: false, averageMs: 10 } },
      { name: 'slow', priority: 0, history: { failedLastTime: false, averageMs: 900 } },
      { name: 'flaky', priority: 0, history: { failedLastTime: true, averageMs: 5 } },
      { name: 'urgent', priority: 5, history: { failedLastTime: false, averageMs: null } },
    ];
    expect(cases.sort(compareDispatchOrder).map((c) => c.name)).toEqual([
      'urgent',
      'flaky',
      'slow',
      'fast',
    ]);
  });
});

describe('retryDelayMs', () => {
  it('doubles per attempt within half and full of the nominal delay, up to the cap', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 0.5)).toBe(3000);
    expect(retryDelayMs(20, 1000, 60_000, () => 1)).toBe(60_000);
  });
});

describe('resolveReferences', () => {
  const scope = {
    cases: { login: { token: 'abc', user: { id: 7 }, roles: ['admin'] } },
    env: { BASE_URL: 'https://staging.example' },
    secrets: { API_KEY: 's3cr3t-key' },
  };

  it('keeps the type of a whole reference and splices partial ones as text', () => {
    const { params, secrets } = resolveReferences(
      {
        url: '${{ env.BASE_URL }}/users/${{ cases.login.outputs.user.id }}',
        id: '${{cases.login.outputs.user.id}}',
        headers: { authorization: 'Bearer ${{ secrets.API_KEY }}' },
        list: ['${{ cases.login.outputs.roles.0 }}'],
        untouched: 42,
      },
      scope,
    );
    expect(params).toEqual({
      url: 'https://staging.example/users/7',
      id: 7,
      headers: { authorization: 'Bearer s3cr3t-key' },
      list: ['admin'],
      untouched: 42,
    });
    expect(secrets).toEqual(['s3cr3t-key']);
  });

  it('fails with a message naming the missing reference', () => {
    expect(() => resolveReferences({ a: '${{ secrets.NOPE }}' }, scope)).toThrow(
      new UnresolvedReferenceError(
        '${{ secrets.NOPE }}: the environment of this run has no secret "NOPE"',
      ),
    );
    expect(() => resolveReferences({ a: '${{ cases.logout.outputs.x }}' }, scope)).toThrow(
      /case "logout" has not produced outputs/,
    );
    expect(() => resolveReferences({ a: '${{ cases.login.outputs.missing }}' }, scope)).toThrow(
      /has no output "missing"/,
    );
    expect(() => resolveReferences({ a: '${{ vars.X }}' }, scope)).toThrow(
      /start with cases\., env\. or secrets\./,
    );
  });

  it('lists the cases a params object reads from', () => {
    expect(
      referencedCases({
        a: ['${{ cases.login.outputs.token }}', 'x ${{ env.Y }} ${{cases.other.outputs.z}}'],
      }).sort(),
    ).toEqual(['login', 'other']);
  });
});

describe('masking', () => {
  it('masks every secret in text and JSON, longest first', () => {
    const mask = createMasker(['token-123', 'token-123-extended', 'ab']);
    expect(mask('got token-123-extended and token-123, ab')).toBe('got *** and ***, ab');
    expect(maskJson({ 'token-123': ['x token-123'], n: 1 }, mask)).toEqual({
      '***': ['x ***'],
      n: 1,
    });
  });
});

describe('SecretBox', () => {
  it('round-trips and refuses a different key', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal('p@ssw0rd');
    expect(sealed.data).not.toContain('p@ssw0rd');
    expect(box.open(sealed)).toBe('p@ssw0rd');
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow(/WEBGUARD_SECRET_KEY/);
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32 bytes/);
  });
});
