import type { BrowserContext, Page } from 'playwright-core';

/** A case keeps at most this many browser log lines; the rest are counted. */
export const MAX_BROWSER_LOG_LINES = 2000;
const MAX_LINE_LENGTH = 2000;

const clip = (text: string) =>
  text.length > MAX_LINE_LENGTH ? `${text.slice(0, MAX_LINE_LENGTH)}…` : text;

/**
 * Collects what a person debugging a failed browser case looks for first: console errors,
 * uncaught page errors, requests that failed and responses with an error status.
 */
export class BrowserLog {
  private readonly lines: string[] = [];
  private dropped = 0;

  constructor(context: BrowserContext) {
    context.on('console', (message) => {
      const type = message.type();
      if (type !== 'error' && type !== 'assert') return;
      const { url, lineNumber } = message.location();
      // Chromium asks every site for a favicon; a site without one is not an error worth reading.
      if (url.endsWith('/favicon.ico')) return;
      const where = url ? ` (${url}:${lineNumber + 1})` : '';
      this.add(`console.${type}: ${message.text()}${where}`);
    });
    context.on('weberror', (webError) => {
      this.add(`uncaught error: ${webError.error().stack ?? webError.error().message}`);
    });
    context.on('requestfailed', (request) => {
      this.add(
        `request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText ?? 'unknown error'}`,
      );
    });
    context.on('response', (response) => {
      if (response.status() < 400) return;
      const request = response.request();
      this.add(`response ${response.status()}: ${request.method()} ${response.url()}`);
    });
  }

  /** Records a line of WebGuard's own, e.g. that the page crashed. */
  add(line: string): void {
    if (this.lines.length >= MAX_BROWSER_LOG_LINES) {
      this.dropped++;
      return;
    }
    this.lines.push(`${new Date().toISOString()} ${clip(line)}`);
  }

  /** Watches a page of the context for a crash of its renderer. */
  watch(page: Page, onCrash: () => void): void {
    page.on('crash', () => {
      this.add(`page crashed: ${page.url()}`);
      onCrash();
    });
  }

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  text(): string {
    const tail = this.dropped > 0 ? [`… ${this.dropped} more lines were not kept`] : [];
    return [...this.lines, ...tail].join('\n') + '\n';
  }
}
