import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApiError,
  SkillDetail,
  SkillList,
  SkillNameParams,
  SkillVersionQuery,
} from '@webguard/shared';
import type { SkillRegistry } from '../../../../skills/index.js';
import { AppError } from '../../../../errors.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['skills'];

function skillList(skills: SkillRegistry): SkillList {
  return {
    items: skills.list().map(({ info }) => ({
      name: info.name,
      category: info.category,
      version: info.version,
      versions: skills.versions(info.name),
      description: info.description,
      timeout_ms: info.timeout_ms,
      source: info.source,
    })),
    errors: skills.errors(),
  };
}

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
    async () => skillList(skills),
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
      return skillList(skills);
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
