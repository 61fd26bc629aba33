import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseOutcome } from '@webguard/shared';
import { BrowserPool } from '../../server/src/engine/browser/index.js';
import { runCase } from '../../server/src/engine/index.js';
import { html, MemorySink, PNG_SIGNATURE } from '../../server/test/support/browser.js';
import { closedPort } from '../../server/test/support/closed-port.js';
import { startFixtureServer } from '../../server/test/support/fixture-server.js';
import browserFlow from './skill.js';

const SIGN_UP = `
  <form id="signup" onsubmit="event.preventDefault(); setTimeout(() => { location.hash = 'done'; document.querySelector('#status').textContent = 'Welcome aboard, ' + this.email.value + ' (' + this.plan.value + ')'; }, 150)">
    <label>Email <input name="email" type="email"></label>
    <select name="plan"><option value="free">Free</option><option value="pro">Pro</option></select>
    <input name="code" placeholder="Promo code">
    <button type="submit">Sign up</button>
  </form>
  <p id="status"></p>`;

describe('browser-flow', () => {
  let server: Awaited<ReturnType<typeof startFixtureServer>>;
  let pool: BrowserPool;

  beforeAll(async () => {
    server = await startFixtureServer({ '/signup': html(SIGN_UP, 'Sign up – Shop') });
    pool = new BrowserPool({ searchPath: process.env.PATH ?? '' });
  });
  afterAll(async () => {
    await pool?.close();
    await server?.close();
  });

  const flow = async (params: Record<string, unknown>, sink = new MemorySink()) => ({
    sink,
    outcome: CaseOutcome.parse(
      await runCase({
        skill: browserFlow,
        params,
        caseName: 'sign up',
        executionId: null,
        timeoutMs: 30_000,
        browsers: pool,
        artifacts: sink,
      }),
    ),
  });

  it('runs every kind of step and passes when the page behaves', async () => {
    const { outcome, sink } = await flow({
      steps: [
        { action: 'goto', url: `${server.url}/signup` },
        { action: 'expect_title', title: 'Sign up' },
        { action: 'fill', selector: 'input[name=email]', value: 'ada@example.com' },
        { action: 'select', selector: 'select[name=plan]', value: 'pro' },
        { action: 'click', selector: 'input[name=code]' },
        { action: 'press', key: 'Tab' },
        { action: 'screenshot', name: 'filled' },
        { action: 'press', selector: 'input[name=email]', key: 'Enter', name: 'submit' },
        { action: 'wait_for', selector: '#status:not(:empty)' },
        { action: 'expect_visible', selector: 'text=Welcome aboard' },
        { action: 'expect_text', selector: '#status', text: 'ada@example.com (pro)' },
        { action: 'expect_url', contains: '#done' },
      ],
    });
    expect(outcome).toMatchObject({
      status: 'passed',
      outputs: { final_url: `${server.url}/signup#done`, title: 'Sign up – Shop', steps: 12 },
    });
    expect(outcome.steps.map((step) => step.name)).toEqual([
      `1. goto ${server.url}/signup`,
      '2. expect title "Sign up"',
      '3. fill input[name=email]',
      '4. select select[name=plan]',
      '5. click input[name=code]',
      '6. press Tab',
      '7. screenshot filled',
      '8. submit',
      '9. wait for #status:not(:empty)',
      '10. expect visible text=Welcome aboard',
      '11. expect #status text "ada@example.com (pro)"',
      '12. expect url contains #done',
    ]);
    expect(sink.named('filled.png')?.body.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('fails on the step whose expectation does not hold, with a screenshot', async () => {
    const { outcome, sink } = await flow({
      steps: [
        { action: 'goto', url: `${server.url}/signup` },
        { action: 'expect_text', selector: '#status', text: 'Welcome', timeout_ms: 3_000 },
      ],
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: '#status has text ""; expected it to contain "Welcome"',
    });
    expect(outcome.steps.at(-1)).toMatchObject({
      name: '2. expect #status text "Welcome"',
      status: 'failed',
    });
    expect(sink.named('failure.png')).toBeDefined();
  });

  it('reports a missing element as a failed expectation, not a timeout of the case', async () => {
    const { outcome } = await flow({
      step_timeout_ms: 1_000,
      steps: [
        { action: 'goto', url: `${server.url}/signup` },
        { action: 'click', selector: '#does-not-exist' },
      ],
    });
    expect(outcome).toMatchObject({
      status: 'failed',
      error_type: 'assertion',
      error_message: '#does-not-exist was not found or not ready for "click" within 1000 ms',
    });
  });

  it('reports an unreachable site as a network failure', async () => {
    const { outcome } = await flow({
      steps: [{ action: 'goto', url: `http://127.0.0.1:${await closedPort()}/` }],
    });
    expect(outcome).toMatchObject({ status: 'failed', error_type: 'network' });
    expect(outcome.error_message).toContain('net::ERR_CONNECTION_REFUSED');
  });

  it('rejects steps it cannot run before opening a browser', async () => {
    const { outcome } = await flow({
      steps: [{ action: 'hover', selector: '#x' }, { action: 'expect_url' }],
    });
    expect(outcome).toMatchObject({ status: 'error', error_type: 'system' });
    expect(outcome.error_message).toContain('steps[0].action');
    expect(outcome.error_message).toContain(
      'steps[1].equals: give exactly one of equals or contains',
    );
  });
});
