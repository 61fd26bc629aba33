import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { NotificationPayload } from '@webguard/shared';

/** How one attempt went; a non-2xx answer or a refused mail is a failure worth retrying. */
export interface SendResult {
  ok: boolean;
  responseStatus?: number;
  error?: string;
}

const TIMEOUT_MS = 10_000;

/** `sha256=<hex>` of `<timestamp>.<body>` keyed with the channel's secret, as receivers check it. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<SendResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    });
    await response.body?.cancel();
    return response.ok
      ? { ok: true, responseStatus: response.status }
      : { ok: false, responseStatus: response.status, error: `answered ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, error: cause ?? (error instanceof Error ? error.message : String(error)) };
  }
}

export function sendWebhook(
  url: string,
  secret: string,
  payload: NotificationPayload,
  deliveryId: number,
): Promise<SendResult> {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(Date.now() / 1000));
  return post(url, body, {
    'user-agent': 'WebGuard-Webhook',
    'x-webguard-event': payload.event,
    'x-webguard-delivery': String(deliveryId),
    'x-webguard-timestamp': timestamp,
    'x-webguard-signature': signWebhook(secret, timestamp, body),
  });
}

/** One line for chat and mail subjects. */
export function headline(payload: NotificationPayload): string {
  const { execution, rule } = payload;
  const what = rule === 'recovery' ? 'recovered' : execution.status;
  const gate = execution.quality_gate_passed === false ? ', quality gate failed' : '';
  const sender = rule === 'test' ? 'WebGuard test message, a made-up run' : 'WebGuard';
  return `${sender}: ${execution.suite_name} ${what} (#${execution.id}: ${execution.passed_tests}/${execution.total_tests} passed${gate})`;
}

function details(payload: NotificationPayload): string[] {
  const { execution } = payload;
  const lines: string[] = [];
  if (execution.ci_branch || execution.ci_commit_sha)
    lines.push(
      `branch ${execution.ci_branch ?? '-'}, commit ${execution.ci_commit_sha?.slice(0, 12) ?? '-'}`,
    );
  for (const failure of payload.failures)
    lines.push(
      `✗ ${failure.test_name}${failure.error_message ? `: ${failure.error_message.split('\n')[0]}` : ''}`,
    );
  return lines;
}

export function sendSlack(webhookUrl: string, payload: NotificationPayload): Promise<SendResult> {
  const icon =
    payload.rule === 'recovery' || payload.execution.status === 'passed'
      ? ':white_check_mark:'
      : ':x:';
  const text = [`${icon} *${headline(payload)}*`, ...details(payload)].join('\n');
  return post(webhookUrl, JSON.stringify({ text }), {});
}

export async function sendEmail(
  smtpUrl: string,
  from: string,
  to: string[],
  payload: NotificationPayload,
): Promise<SendResult> {
  // Options in the URL's query are read by nodemailer; a mail server that hangs must not hold a worker.
  const url = new URL(smtpUrl);
  for (const option of ['connectionTimeout', 'greetingTimeout', 'socketTimeout'])
    if (!url.searchParams.has(option)) url.searchParams.set(option, String(TIMEOUT_MS));
  const transport = nodemailer.createTransport(url.toString());
  try {
    await transport.sendMail({
      from,
      to,
      subject: headline(payload),
      text: [headline(payload), '', ...details(payload)].join('\n'),
    });
    return { ok: true };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    transport.close();
  }
}
