import {
  AssertionFailedError,
  BrowserSettings,
  NetworkError,
  SkillError,
  TimeoutError,
  defineSkill,
  z,
} from '@webguard/shared';

const limit = (description: string) => z.number().positive().optional().describe(description);

const Params = z.object({
  url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  wait_until: z
    .enum(['load', 'networkidle'])
    .default('load')
    .describe('when the page counts as loaded'),
  settle_ms: z
    .number()
    .int()
    .min(0)
    .max(30_000)
    .default(500)
    .describe('time to wait after loading, for late layout shifts and the final LCP (ms)'),
  timeout_ms: z.number().int().positive().max(300_000).default(30_000),
  thresholds: z
    .strictObject({
      ttfb_ms: limit('time to first byte'),
      fcp_ms: limit('first contentful paint'),
      lcp_ms: limit('largest contentful paint'),
      cls: limit('cumulative layout shift (unitless, good is 0.1 or less)'),
      dom_content_loaded_ms: limit('DOMContentLoaded finished'),
      load_ms: limit('load event finished'),
      transfer_bytes: limit('bytes transferred for the page and everything it loaded'),
      requests: limit('number of requests the page made'),
    })
    .default({})
    .describe('the case fails when a measurement is above its limit'),
  browser: BrowserSettings.optional(),
});

/**
 * Installed before any page script: observers that keep the last LCP and the largest CLS
 * session window (shifts at most 1 s apart, 5 s at most), as the web-vitals definitions do.
 * Kept as a string: it runs in the page, where Node's types do not apply.
 */
const OBSERVE_VITALS = `(() => {
  const vitals = { lcp: null, cls: 0 };
  Object.defineProperty(window, '__webguardVitals', { value: vitals });
  const observe = (type, onEntry) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(onEntry)).observe({ type, buffered: true });
    } catch {}
  };
  observe('largest-contentful-paint', (entry) => { vitals.lcp = entry.startTime; });
  let session = 0, sessionStart = 0, previous = 0;
  observe('layout-shift', (entry) => {
    if (entry.hadRecentInput) return;
    if (session > 0 && (entry.startTime - previous > 1000 || entry.startTime - sessionStart > 5000)) session = 0;
    if (session === 0) sessionStart = entry.startTime;
    session += entry.value;
    previous = entry.startTime;
    vitals.cls = Math.max(vitals.cls, session);
  });
})();`;

const READ_TIMINGS = `(() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const vitals = window.__webguardVitals ?? { lcp: null, cls: null };
  return {
    ttfb: navigation ? navigation.responseStart - navigation.startTime : null,
    dom_content_loaded: navigation ? navigation.domContentLoadedEventEnd - navigation.startTime : null,
    load: navigation && navigation.loadEventEnd > 0 ? navigation.loadEventEnd - navigation.startTime : null,
    fcp: paint ? paint.startTime : null,
    lcp: vitals.lcp,
    cls: vitals.cls,
  };
})()`;

const Timings = z.object({
  ttfb: z.number().nullable(),
  dom_content_loaded: z.number().nullable(),
  load: z.number().nullable(),
  fcp: z.number().nullable(),
  lcp: z.number().nullable(),
  cls: z.number().nullable(),
});

const round = (value: number, digits = 0) => Number(value.toFixed(digits));

export default defineSkill({
  name: 'page-performance',
  category: 'browser',
  version: '1.0.0',
  description:
    'Loads a page in a fresh browser and measures TTFB, FCP, LCP, CLS, load timings, bytes transferred and requests, with optional limits.',
  params: Params,
  async run(ctx, params) {
    const page = ctx.page;
    if (!page) {
      throw new SkillError('system', 'page-performance needs a page: run it on a browser worker');
    }

    // Every request the page makes, with its size on the wire once it has finished.
    const sizes: Promise<number>[] = [];
    let requests = 0;
    page.on('request', () => (requests += 1));
    page.on('requestfinished', (request) => {
      sizes.push(
        request.sizes().then(
          (size) => size.responseBodySize + size.responseHeadersSize,
          () => 0,
        ),
      );
    });
    await page.addInitScript({ content: OBSERVE_VITALS });

    await ctx.step('load page', async () => {
      try {
        const response = await page.goto(params.url, {
          waitUntil: params.wait_until,
          timeout: params.timeout_ms,
        });
        if (response && !response.ok()) {
          throw new AssertionFailedError(`${params.url} answered ${response.status()}`);
        }
      } catch (error) {
        if (!(error instanceof Error) || error instanceof SkillError) throw error;
        if (/net::ERR_/.test(error.message)) {
          throw new NetworkError(`${params.url}: ${error.message.split('\n')[0]}`);
        }
        if (error.name === 'TimeoutError') {
          throw new TimeoutError(`${params.url} did not load within ${params.timeout_ms} ms`);
        }
        throw error;
      }
      if (params.settle_ms > 0) await page.waitForTimeout(params.settle_ms);
    });

    const timings = Timings.parse(await page.evaluate(READ_TIMINGS));
    const transferred = (await Promise.all(sizes)).reduce((sum, size) => sum + size, 0);
    const measured = {
      ttfb_ms: timings.ttfb === null ? null : round(timings.ttfb),
      fcp_ms: timings.fcp === null ? null : round(timings.fcp),
      lcp_ms: timings.lcp === null ? null : round(timings.lcp),
      cls: timings.cls === null ? null : round(timings.cls, 4),
      dom_content_loaded_ms:
        timings.dom_content_loaded === null ? null : round(timings.dom_content_loaded),
      load_ms: timings.load === null ? null : round(timings.load),
      transfer_bytes: transferred,
      requests,
    };

    const metricNames: Record<keyof typeof measured, [string, string | undefined]> = {
      ttfb_ms: ['ttfb', 'ms'],
      fcp_ms: ['first_contentful_paint', 'ms'],
      lcp_ms: ['largest_contentful_paint', 'ms'],
      cls: ['cumulative_layout_shift', undefined],
      dom_content_loaded_ms: ['dom_content_loaded', 'ms'],
      load_ms: ['load_time', 'ms'],
      transfer_bytes: ['transfer_size', 'bytes'],
      requests: ['request_count', undefined],
    };
    for (const [key, [name, unit]] of Object.entries(metricNames)) {
      const value = measured[key as keyof typeof measured];
      if (value === null) ctx.log.warn(`${name} was not measured: the browser reported none`);
      else ctx.metric(name, value, unit);
    }

    await ctx.step('thresholds', () => {
      const exceeded = Object.entries(params.thresholds).flatMap(([key, max]) => {
        const value = measured[key as keyof typeof measured];
        if (max === undefined) return [];
        if (value === null) return [`${key} could not be measured (limit ${max})`];
        return value > max ? [`${key} is ${value}, above the limit of ${max}`] : [];
      });
      if (exceeded.length > 0) {
        throw new AssertionFailedError(`${params.url}: ${exceeded.join('; ')}`);
      }
    });
    return measured;
  },
});
