import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApiError,
  ArtifactLink,
  ArtifactLinkQuery,
  ArtifactList,
  IdParams,
  ResultIdParams,
  SignedArtifactQuery,
} from '@webguard/shared';
import { contentDisposition, type ArtifactContent } from '../../../../artifacts/index.js';
import { principalOf } from '../../../plugins/auth.js';

const tags = ['artifacts'];

/**
 * Streams an artifact with its own content type. Attachments are whatever a skill saved, so
 * nothing is sniffed and HTML runs sandboxed, never as a page of the API's origin.
 */
function sendContent(reply: FastifyReply, { artifact, body, size }: ArtifactContent) {
  return reply
    .header('content-type', artifact.content_type)
    .header('content-length', size)
    .header('content-disposition', contentDisposition(artifact.name))
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', 'sandbox')
    .header('cache-control', 'private, max-age=3600')
    .send(body);
}

const artifactRoutes: FastifyPluginAsyncZod = async (app) => {
  const { artifacts, access } = app.services;

  app.get(
    '/results/:resultId/artifacts',
    {
      schema: {
        tags,
        summary: 'List the artifacts of a result: screenshots, video, trace, logs, attachments',
        params: ResultIdParams,
        response: { 200: ArtifactList, 404: ApiError },
      },
    },
    async (request) => {
      await access.result(principalOf(request), request.params.resultId, 'viewer');
      return { items: await artifacts.listForResult(request.params.resultId) };
    },
  );

  app.get(
    '/artifacts/:id',
    {
      schema: {
        tags,
        summary: 'Download an artifact (streamed, with its content type)',
        params: IdParams,
        response: { 404: ApiError },
      },
    },
    async (request, reply) => {
      await access.artifact(principalOf(request), request.params.id, 'viewer');
      return sendContent(reply, await artifacts.open(request.params.id));
    },
  );

  app.get(
    '/artifacts/:id/link',
    {
      schema: {
        tags,
        summary: 'Get an expiring link that downloads the artifact without credentials',
        description:
          'Signed by S3 when artifacts are kept in S3, else by this API (see /artifacts/{id}/download).',
        params: IdParams,
        querystring: ArtifactLinkQuery,
        response: { 200: ArtifactLink, 404: ApiError },
      },
    },
    async (request) => {
      await access.artifact(principalOf(request), request.params.id, 'viewer');
      const base = `${request.protocol}://${request.host}`;
      return artifacts.link(request.params.id, request.query.expires_in, base);
    },
  );

  app.get(
    '/artifacts/:id/download',
    {
      schema: {
        tags,
        summary: 'Download an artifact through a signed link (no credentials needed)',
        params: IdParams,
        querystring: SignedArtifactQuery,
        response: { 403: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      const { expires, signature } = request.query;
      return sendContent(reply, await artifacts.openSigned(request.params.id, expires, signature));
    },
  );
};

export default artifactRoutes;
