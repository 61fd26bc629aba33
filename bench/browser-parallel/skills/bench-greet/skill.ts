import { AssertionFailedError, defineSkill, z } from '@webguard/shared';
import type { Page } from 'playwright-core';

/**
 * The benchmark's browser case, as a script: the direct side runs it on a page of its own, the
 * WebGuard side as this skill, so both sides make the same Playwright calls.
 */
export async function greet(
  page: Page,
  { url, index }: { url: string; index: number },
  screenshot: () => Promise<unknown>,
): Promise<void> {
  await page.goto(url);
  await page.locator('#name').first().fill(`user ${index}`);
  await page.locator('text=Greet').first().click();
  const text = await page.locator('#greeting').first().innerText();
  if (text !== `Hello user ${index}`) throw new AssertionFailedError(`unexpected greeting ${text}`);
  await screenshot();
}

export default defineSkill({
  name: 'bench-greet',
  category: 'browser',
  version: '1.0.0',
  description: 'Opens the benchmark page, fills the form, checks the greeting, takes a screenshot.',
  params: z.object({
    url: z.string().describe('the benchmark page'),
    index: z.number().int().describe('which case: the name it fills in'),
  }),
  async run(ctx, params) {
    await greet(ctx.page!, params, () => ctx.screenshot('greeted'));
    return {};
  },
});
