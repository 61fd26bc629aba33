// A Playwright Test reporter that tells WebGuard what happens, as JSON lines on file descriptor 3
// (the pipe the playwright-test skill opens for it). It runs inside the Playwright runner, with
// whichever @playwright/test version the suite uses, so it sticks to the stable reporter API.
import { createWriteStream } from 'node:fs';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const plain = (text) => (text ?? '').replace(ANSI, '');

const OUTCOME_COUNT = {
  expected: 'passed',
  unexpected: 'failed',
  flaky: 'flaky',
  skipped: 'skipped',
};

export default class WebGuardReporter {
  constructor() {
    this.out = createWriteStream('', { fd: 3 });
    this.suite = undefined;
  }

  printsToStdio() {
    return false;
  }

  send(event) {
    this.out.write(`${JSON.stringify(event)}\n`);
  }

  describe(test) {
    const [, projectName, file, ...titles] = test.titlePath();
    return { id: test.id, project: projectName || null, file, title: titles.join(' › ') };
  }

  onBegin(_config, suite) {
    this.suite = suite;
    this.send({ type: 'begin', total: suite.allTests().length });
  }

  onTestBegin(test, result) {
    this.send({ type: 'test-begin', ...this.describe(test), retry: result.retry });
  }

  onTestEnd(test, result) {
    this.send({
      type: 'test-end',
      ...this.describe(test),
      retry: result.retry,
      status: result.status,
      expected_status: test.expectedStatus,
      duration_ms: result.duration,
      error: result.error ? plain(result.error.message).split('\n').slice(0, 20).join('\n') : null,
      attachments: result.attachments
        .filter((attachment) => attachment.path)
        .map(({ name, contentType, path }) => ({ name, content_type: contentType, path })),
    });
  }

  onError(error) {
    this.send({ type: 'error', message: plain(error.message ?? error.value ?? String(error)) });
  }

  async onEnd(result) {
    // Counted per test by its final outcome, exactly as the runner's own summary counts.
    const counts = { passed: 0, failed: 0, flaky: 0, skipped: 0 };
    const tests = [];
    for (const test of this.suite?.allTests() ?? []) {
      const outcome = test.outcome();
      counts[OUTCOME_COUNT[outcome]] += 1;
      const last = test.results.at(-1);
      tests.push({
        ...this.describe(test),
        outcome: OUTCOME_COUNT[outcome],
        retries: Math.max(0, test.results.length - 1),
        duration_ms: test.results.reduce((sum, attempt) => sum + attempt.duration, 0),
        error: last?.error ? plain(last.error.message).split('\n')[0] : null,
      });
    }
    this.send({ type: 'end', status: result.status, counts, tests });
    await new Promise((resolve) => this.out.end(resolve));
  }
}
