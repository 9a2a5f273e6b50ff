import { pino } from 'pino';
import { createServices } from './app-services.ts';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';

/** Starts the server and closes it gracefully on SIGINT/SIGTERM (in-flight requests finish first). */
export async function startServer(config: Config): Promise<void> {
  const logger = pino({ level: config.LOG_LEVEL });
  const services = await createServices(config, logger);
  const app = await buildApp(services, { logger: { level: config.LOG_LEVEL } });
  const stop = async (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    const forced = setTimeout(() => process.exit(1), 15000);
    forced.unref();
    await app.close();
    await services.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await app.listen({ host: config.TTS_HOST, port: config.TTS_PORT });
  app.log.info(
    `serving on http://${config.TTS_HOST}:${config.TTS_PORT} (docs at /docs, try it at /ui); speech engine: ${services.engine.name}` +
      (services.video ? `; video engine: ${services.video.engine.name}` : ''),
  );
}
