import { pino } from 'pino';
import { createServices } from './app-services.ts';
import { logDestination } from './observability/log-destination.ts';
import { ensureDataFolders } from './core/data-folders.ts';
import type { Config } from './config.ts';
import { buildApp } from './http/app.ts';
import { releaseMemoryWhenIdle } from './memory/release-when-idle.ts';
import { shutDown } from './shutdown.ts';

/** Starts the server and shuts it down in order on SIGINT/SIGTERM (see shutDown). */
export async function startServer(config: Config): Promise<void> {
  // One destination for the server's own log and Fastify's request log.
  const stream = logDestination(config.LOG_FORMAT);
  const logger = pino({ level: config.LOG_LEVEL }, stream);
  await ensureDataFolders(config, logger);
  const services = await createServices(config, logger);
  const app = await buildApp(services, { logger: { level: config.LOG_LEVEL, stream } });
  const memory =
    config.MEMORY_RELEASE_IDLE_S > 0
      ? releaseMemoryWhenIdle(app.server, config.MEMORY_RELEASE_IDLE_S * 1000, app.log)
      : undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    memory?.stop();
    app.log.info({ signal, graceSeconds: config.SHUTDOWN_GRACE_S }, 'shutting down');
    shutDown(app, services, { graceMs: config.SHUTDOWN_GRACE_S * 1000, forceMs: 5000 })
      .then(() => {
        app.log.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await app.listen({ host: config.TTS_HOST, port: config.TTS_PORT });
  app.log.info(
    `serving on http://${config.TTS_HOST}:${config.TTS_PORT} (docs at /docs, try it at /ui); speech engine: ${services.engine.name}` +
      (services.video ? `; video engine: ${services.video.engine.name}` : ''),
  );
  const voices = await services.voices.list();
  if (voices.length === 0)
    app.log.info(`no voices yet in ${config.REF_AUDIO_DIR} (REF_AUDIO_DIR). ${services.voices.howToAdd()}`);
  else
    app.log.info(
      `${voices.length} voices in ${config.REF_AUDIO_DIR}: ${voices
        .slice(0, 20)
        .map((voice) => voice.name)
        .join(', ')}${voices.length > 20 ? ', …' : ''}`,
    );
}
