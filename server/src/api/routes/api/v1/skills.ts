import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApiError,
  SkillDetail,
  SkillList,
  SkillNameParams,
  SkillVersionQuery,
} from '@webguard/shared';
import { AppError } from '../../../../errors.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['skills'];

const skillRoutes: FastifyPluginAsyncZod = async (app) => {
  const { skills, skillReloader, access } = app.services;

  app.get(
    '/skills',
    {
      schema: {
        tags,
        summary:
          'List installed skills (newest version of each) and the folders that failed to load',
        response: { 200: SkillList },
      },
    },
    async () => skills.summary(),
  );

  app.post(
    '/skills/reload',
    {
      schema: {
        tags,
        summary: 'Reload the skill folders in every process of the cluster, without restarting',
        description:
          'Cases already running keep the version they started with; cases dispatched afterwards use the reloaded skills.',
        response: { 200: SkillList },
      },
    },
    async (request) => {
      // Reloading affects every project's runs in every process.
      access.requireAdmin(principalOf(request));
      await skillReloader.reloadEverywhere();
      return skills.summary();
    },
  );

  app.get(
    '/skills/:name',
    {
      schema: {
        tags,
        summary: 'Get a skill with the JSON Schema of its params',
        params: SkillNameParams,
        querystring: SkillVersionQuery,
        response: { 200: SkillDetail, 404: ApiError },
      },
    },
    async (request) => {
      const found = skills.find(request.params.name, request.query.version);
      if (!found.ok) throw new AppError(404, 'NOT_FOUND', found.reason);
      return { ...found.skill.info, versions: skills.versions(request.params.name) };
    },
  );
};

export default skillRoutes;
