import {
  AssertionFailedError,
  BrowserSettings,
  NetworkError,
  SkillError,
  TimeoutError,
  defineSkill,
  describeValue,
  z,
  type SkillContext,
} from '@webguard/shared';

const Selector = z
  .string()
  .trim()
  .min(1)
  .max(1000)
  .describe('Playwright selector: CSS (#email), text=Sign in, role=button[name="Send"], …');

const common = {
  name: z.string().trim().min(1).max(200).optional().describe('label shown for the step'),
  timeout_ms: z
    .number()
    .int()
    .positive()
    .max(300_000)
    .optional()
    .describe('time limit for this step (default: the flow’s step_timeout_ms)'),
};

const Step = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('goto'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
    wait_until: z.enum(['load', 'domcontentloaded', 'networkidle', 'commit']).default('load'),
    ...common,
  }),
  z.strictObject({ action: z.literal('click'), selector: Selector, ...common }),
  z.strictObject({ action: z.literal('fill'), selector: Selector, value: z.string(), ...common }),
  z.strictObject({
    action: z.literal('select'),
    selector: Selector,
    value: z
      .union([z.string(), z.array(z.string()).min(1)])
      .describe('option value(s) or label(s)'),
    ...common,
  }),
  z.strictObject({
    action: z.literal('press'),
    key: z.string().min(1).max(100).describe('a key like Enter, Tab or Control+A'),
    selector: Selector.optional().describe('element to press it in (default: the page)'),
    ...common,
  }),
  z.strictObject({
    action: z.literal('wait_for'),
    selector: Selector,
    state: z.enum(['visible', 'hidden', 'attached', 'detached']).default('visible'),
    ...common,
  }),
  z.strictObject({ action: z.literal('expect_visible'), selector: Selector, ...common }),
  z.strictObject({
    action: z.literal('expect_text'),
    selector: Selector,
    text: z.string().describe('text the element must contain'),
    exact: z.boolean().default(false).describe('the whole text must equal `text`'),
    ...common,
  }),
  z
    .strictObject({
      action: z.literal('expect_url'),
      equals: z.string().optional().describe('the page URL must be exactly this'),
      contains: z.string().optional().describe('the page URL must contain this'),
      ...common,
    })
    .refine((step) => (step.equals === undefined) !== (step.contains === undefined), {
      message: 'give exactly one of equals or contains',
      path: ['equals'],
    }),
  z.strictObject({
    action: z.literal('expect_title'),
    title: z.string().describe('text the page title must contain'),
    exact: z.boolean().default(false),
    ...common,
  }),
  z.strictObject({
    action: z.literal('screenshot'),
    name: z
      .string()
      .trim()
      .min(1)
      .max(150)
      .regex(/^[^/\\]+$/, 'must not contain slashes'),
    timeout_ms: common.timeout_ms,
  }),
]);
type Step = z.output<typeof Step>;

const Params = z.object({
  steps: z.array(Step).min(1).max(200).describe('what to do, in order'),
  step_timeout_ms: z
    .number()
    .int()
    .positive()
    .max(300_000)
    .default(10_000)
    .describe('time limit of a step that sets none (ms)'),
  browser: BrowserSettings.optional(),
});

const POLL_MS = 100;

type Page = NonNullable<SkillContext['page']>;
type Locator = ReturnType<Page['locator']>;

function describeStep(step: Step): string {
  switch (step.action) {
    case 'goto':
      return `goto ${step.url}`;
    case 'press':
      return `press ${step.key}${step.selector ? ` in ${step.selector}` : ''}`;
    case 'expect_url':
      return `expect url ${step.equals !== undefined ? `= ${step.equals}` : `contains ${step.contains}`}`;
    case 'expect_title':
      return `expect title ${describeValue(step.title)}`;
    case 'expect_text':
      return `expect ${step.selector} text ${describeValue(step.text)}`;
    case 'screenshot':
      return `screenshot ${step.name}`;
    default:
      return `${step.action.replace('_', ' ')} ${step.selector}`;
  }
}

/** Polls `read` until `holds` accepts its value or the time is up; returns the last value. */
async function settle<T>(
  read: () => Promise<T>,
  holds: (value: T) => boolean,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<{ value: T; held: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (holds(value)) return { value, held: true };
    if (Date.now() >= deadline || signal.aborted) return { value, held: false };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Playwright's own errors, said the way a flow author reads them: an element that never showed
 * up is a failed expectation, a page that does not load is a network or timeout failure.
 */
function explain(error: unknown, step: Step, timeoutMs: number): unknown {
  if (!(error instanceof Error) || error instanceof SkillError) return error;
  const firstLine = error.message.split('\n')[0] ?? error.message;
  if (step.action === 'goto') {
    if (/net::ERR_/.test(firstLine)) return new NetworkError(`${describeStep(step)}: ${firstLine}`);
    if (error.name === 'TimeoutError') {
      return new TimeoutError(`${step.url} did not load within ${timeoutMs} ms`);
    }
    return error;
  }
  if (error.name === 'TimeoutError' && 'selector' in step && step.selector !== undefined) {
    return new AssertionFailedError(
      `${step.selector} was not found or not ready for "${step.action}" within ${timeoutMs} ms`,
    );
  }
  return error;
}

async function perform(ctx: SkillContext, page: Page, step: Step, timeout: number): Promise<void> {
  const at = (selector: string): Locator => page.locator(selector).first();
  switch (step.action) {
    case 'goto':
      await page.goto(step.url, { waitUntil: step.wait_until, timeout });
      return;
    case 'click':
      await at(step.selector).click({ timeout });
      return;
    case 'fill':
      await at(step.selector).fill(step.value, { timeout });
      return;
    case 'select':
      await at(step.selector).selectOption(step.value, { timeout });
      return;
    case 'press':
      if (step.selector) await at(step.selector).press(step.key, { timeout });
      else await page.keyboard.press(step.key);
      return;
    case 'wait_for':
      await at(step.selector).waitFor({ state: step.state, timeout });
      return;
    case 'expect_visible':
      await at(step.selector).waitFor({ state: 'visible', timeout });
      return;
    case 'expect_text': {
      const expected = step.text;
      const matches = (text: string) =>
        step.exact ? text.trim() === expected.trim() : text.includes(expected);
      // innerText waits for the element; polling then gives the text time to change.
      const { value, held } = await settle(
        () => at(step.selector).innerText({ timeout }),
        matches,
        timeout,
        ctx.signal,
      );
      if (!held) {
        throw new AssertionFailedError(
          `${step.selector} has text ${describeValue(value)}; expected it to ${step.exact ? 'be' : 'contain'} ${describeValue(expected)}`,
        );
      }
      return;
    }
    case 'expect_url': {
      const matches = (url: string) =>
        step.equals !== undefined ? url === step.equals : url.includes(step.contains ?? '');
      const { value, held } = await settle(async () => page.url(), matches, timeout, ctx.signal);
      if (!held) {
        const wanted = step.equals !== undefined ? `be ${step.equals}` : `contain ${step.contains}`;
        throw new AssertionFailedError(`the page URL is ${value}; expected it to ${wanted}`);
      }
      return;
    }
    case 'expect_title': {
      const matches = (title: string) =>
        step.exact ? title === step.title : title.includes(step.title);
      const { value, held } = await settle(() => page.title(), matches, timeout, ctx.signal);
      if (!held) {
        throw new AssertionFailedError(
          `the page title is ${describeValue(value)}; expected it to ${step.exact ? 'be' : 'contain'} ${describeValue(step.title)}`,
        );
      }
      return;
    }
    case 'screenshot':
      await ctx.screenshot(step.name);
      return;
  }
}

export default defineSkill({
  name: 'browser-flow',
  category: 'browser',
  version: '1.0.0',
  description:
    'Runs declarative browser steps (goto, click, fill, select, press, wait for, expect visible/text/url/title, screenshot) in a fresh browser context.',
  params: Params,
  async run(ctx, params) {
    const page = ctx.page;
    if (!page)
      throw new SkillError('system', 'browser-flow needs a page: run it on a browser worker');
    for (const [index, step] of params.steps.entries()) {
      const timeout = step.timeout_ms ?? params.step_timeout_ms;
      const label = (step.action === 'screenshot' ? undefined : step.name) ?? describeStep(step);
      await ctx.step(`${index + 1}. ${label}`, async () => {
        try {
          await perform(ctx, page, step, timeout);
        } catch (error) {
          throw explain(error, step, timeout);
        }
      });
    }
    return { final_url: page.url(), title: await page.title(), steps: params.steps.length };
  },
});
