import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ApiError,
  ChannelTestResult,
  CreateChannelBody,
  IdParams,
  NotificationChannel,
  NotificationDelivery,
  SuiteNotifications,
  UpdateChannelBody,
  type UserRole,
} from '@webguard/shared';
import { visibleProjects, type Principal } from '../../../../auth/index.js';
import { AppError, notFound } from '../../../../errors.js';
import { principalOf } from '../../../plugins/auth.js';
import { CHANNEL_TESTS_PER_MINUTE } from '../../../plugins/hardening.js';

const tags = ['notifications'];

/** Channels (webhook, Slack, e-mail) and the suites' rules for using them. */
const notificationRoutes: FastifyPluginAsyncZod = async (app) => {
  const { access, notifications, notificationRows } = app.services;

  /** The channel, if the caller has `needed` in its project (404 when it cannot see it). */
  async function channel(principal: Principal, id: number, needed: UserRole) {
    const record = await notificationRows.findChannel(id);
    access.requireRole(principal, record?.channel.project_id, needed, () =>
      notFound('notification channel', id),
    );
    return record!.channel;
  }

  app.get(
    '/notification-channels',
    {
      schema: {
        tags,
        summary: 'List notification channels (never their secrets)',
        response: { 200: z.object({ items: z.array(NotificationChannel) }) },
      },
    },
    async (request) => ({
      items: await notificationRows.listChannels(visibleProjects(principalOf(request))),
    }),
  );

  app.post(
    '/notification-channels',
    {
      schema: {
        tags,
        summary: 'Add a channel: a signed webhook, a Slack incoming webhook or SMTP e-mail',
        description:
          'Webhook requests carry `X-WebGuard-Timestamp` and `X-WebGuard-Signature: sha256=HMAC(secret, timestamp + "." + body)`. Secrets are stored encrypted.',
        body: CreateChannelBody,
        response: { 201: NotificationChannel, 400: ApiError, 403: ApiError, 409: ApiError },
      },
    },
    async (request, reply) => {
      const projectId = access.targetProject(
        principalOf(request),
        request.body.project_id,
        'tester',
      );
      return reply.code(201).send(await notifications.createChannel(request.body, projectId));
    },
  );

  app.patch(
    '/notification-channels/:id',
    {
      schema: {
        tags,
        summary: 'Rename, enable or disable a channel',
        params: IdParams,
        body: UpdateChannelBody,
        response: { 200: NotificationChannel, 403: ApiError, 404: ApiError, 409: ApiError },
      },
    },
    async (request) => {
      await channel(principalOf(request), request.params.id, 'tester');
      return notificationRows.updateChannel(request.params.id, request.body);
    },
  );

  app.delete(
    '/notification-channels/:id',
    {
      schema: {
        tags,
        summary: 'Delete a channel with its delivery log',
        params: IdParams,
        response: { 204: z.null(), 403: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      await channel(principalOf(request), request.params.id, 'tester');
      await notificationRows.deleteChannel(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/notification-channels/:id/test',
    {
      schema: {
        tags,
        summary: 'Send a test message through the channel now and say whether it arrived',
        description: `Sends a made-up failing run (webhook event \`channel.test\`, rule \`test\`), even through a disabled channel, and waits for the receiver. A refusal is not an error of this call: it answers 200 with \`delivered: false\` and the receiver’s error. The attempt is kept in the delivery log. At most ${CHANNEL_TESTS_PER_MINUTE} test messages per minute per caller (429 past it).`,
        params: IdParams,
        response: { 200: ChannelTestResult, 403: ApiError, 404: ApiError, 429: ApiError },
      },
      config: { rateLimit: app.limits.channelTest },
    },
    async (request) => {
      await channel(principalOf(request), request.params.id, 'tester');
      return notifications.sendTest(request.params.id);
    },
  );

  app.get(
    '/notification-channels/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'The delivery log of a channel, newest first',
        params: IdParams,
        response: { 200: z.object({ items: z.array(NotificationDelivery) }), 404: ApiError },
      },
    },
    async (request) => {
      await channel(principalOf(request), request.params.id, 'viewer');
      return { items: await notificationRows.deliveries(request.params.id) };
    },
  );

  app.get(
    '/suites/:id/notifications',
    {
      schema: {
        tags,
        summary: 'Which channels the suite notifies, on failure, on recovery or always',
        params: IdParams,
        response: { 200: SuiteNotifications, 404: ApiError },
      },
    },
    async (request) => {
      await access.suite(principalOf(request), request.params.id, 'viewer');
      return { items: await notificationRows.suiteNotifications(request.params.id) };
    },
  );

  app.put(
    '/suites/:id/notifications',
    {
      schema: {
        tags,
        summary: "Replace the suite's notification rules",
        params: IdParams,
        body: SuiteNotifications,
        response: { 200: SuiteNotifications, 400: ApiError, 403: ApiError, 404: ApiError },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      await access.suite(principal, request.params.id, 'tester');
      const suiteProject = (await app.services.suites.get(request.params.id)).project_id;
      for (const [index, item] of request.body.items.entries()) {
        const found = await notificationRows.findChannel(item.channel_id);
        if (found?.channel.project_id !== suiteProject)
          throw new AppError(
            400,
            'VALIDATION_FAILED',
            `items.${index}.channel_id: channel ${item.channel_id} is not a channel of the suite's project`,
            [{ path: `items.${index}.channel_id`, message: 'no such channel in this project' }],
          );
      }
      await notificationRows.replaceSuiteNotifications(request.params.id, request.body.items);
      return { items: await notificationRows.suiteNotifications(request.params.id) };
    },
  );
};

export default notificationRoutes;
