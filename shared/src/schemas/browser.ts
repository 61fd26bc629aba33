import { z } from 'zod';

/** When a case keeps a video or a Playwright trace. */
export const CAPTURE_MODES = ['off', 'on-failure', 'always'] as const;
export const CaptureMode = z.enum(CAPTURE_MODES);
export type CaptureMode = z.infer<typeof CaptureMode>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The BrowserContext a browser case runs in. A browser skill offers it as its `browser` param
 * (`browser: BrowserSettings.optional()`); the engine reads it from there.
 */
export const BrowserSettings = z
  .strictObject({
    viewport: z
      .strictObject({
        width: z.number().int().min(100).max(7680),
        height: z.number().int().min(100).max(4320),
      })
      .optional()
      .describe('page size in CSS pixels (default 1280×720, or the device’s)'),
    device: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .describe('a Playwright device to emulate, e.g. "iPhone 13" or "Pixel 7"'),
    locale: z
      .string()
      .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a locale like en-US or de-DE')
      .optional()
      .describe('browser locale: Accept-Language, navigator.language, number and date formats'),
    timezone: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin')
      .optional()
      .describe('time zone the page sees'),
    user_agent: z.string().min(1).max(1000).optional(),
    extra_headers: z
      .record(z.string().regex(/^[!#$%&'*+.^\w`|~-]+$/, 'must be a header name'), z.string())
      .optional()
      .describe('headers sent with every request of the page'),
    basic_auth: z
      .strictObject({ username: z.string(), password: z.string() })
      .optional()
      .describe('credentials for HTTP basic authentication'),
    ignore_https_errors: z.boolean().optional().describe('accept invalid TLS certificates'),
    video: CaptureMode.optional().describe('keep a video of the case (default: the worker’s)'),
    trace: CaptureMode.optional().describe('keep a Playwright trace (default: the worker’s)'),
  })
  .describe('the browser context of the case');
export type BrowserSettings = z.infer<typeof BrowserSettings>;
