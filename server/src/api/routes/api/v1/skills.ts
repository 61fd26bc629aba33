import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError, SkillInfo, SkillList, SkillNameParams } from '@webguard/shared';
import { notFound } from '../../../../errors.js';

const tags = ['skills'];

const skillRoutes: FastifyPluginAsyncZod = async (app) => {
  const { skills } = app.services;

  app.get(
    '/skills',
    {
      schema: {
        tags,
        summary: 'List installed skills and the skill folders that failed to load',
        response: { 200: SkillList },
      },
    },
    async () => ({
      items: skills.list().map(({ info }) => ({
        name: info.name,
        category: info.category,
        version: info.version,
        description: info.description,
        timeout_ms: info.timeout_ms,
        source: info.source,
      })),
      errors: skills.errors(),
    }),
  );

  app.get(
    '/skills/:name',
    {
      schema: {
        tags,
        summary: 'Get a skill with the JSON Schema of its params',
        params: SkillNameParams,
        response: { 200: SkillInfo, 404: ApiError },
      },
    },
    async (request) => {
      const skill = skills.get(request.params.name);
      if (!skill) throw notFound('skill', request.params.name);
      return skill.info;
    },
  );
};

export default skillRoutes;
