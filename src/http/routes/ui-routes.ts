import type { FastifyPluginAsync } from 'fastify';
import { readFile } from 'node:fs/promises';
import { uiDocs } from '../openapi/system-docs.ts';

const pageUrl = new URL('../../../web/index.html', import.meta.url);

/** GET /ui: a small page for trying the API by hand, as the seed served web/index.html. */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  app.get(
    '/ui',
    { schema: { summary: 'A page for trying the API', tags: ['system'], docs: uiDocs } },
    async (_request, reply) => {
      return reply.type('text/html; charset=utf-8').send(await readFile(pageUrl));
    },
  );
};
