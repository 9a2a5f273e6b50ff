import { mkdir, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config, ConfigName } from '../config.ts';

/** The folders the server reads and writes, with the variable that names each and what it holds. */
export function dataFolders(config: Config): { variable: ConfigName; directory: string; holds: string }[] {
  return [
    { variable: 'REF_AUDIO_DIR', directory: config.REF_AUDIO_DIR, holds: 'voices' },
    { variable: 'CACHE_DIR', directory: config.CACHE_DIR, holds: 'caches' },
    { variable: 'MODEL_DIR', directory: config.MODEL_DIR, holds: 'models' },
    ...(config.ENABLE_VIDEO
      ? [
          {
            variable: 'VIDEO_AVATAR_DIR' as const,
            directory: config.VIDEO_AVATAR_DIR,
            holds: 'avatar photos',
          },
          {
            variable: 'VIDEO_OUTPUT_DIR' as const,
            directory: config.VIDEO_OUTPUT_DIR,
            holds: 'rendered videos',
          },
        ]
      : []),
  ];
}

/**
 * Creates the configured data folders that do not exist yet, so a fresh clone has `ref_audio/` (and
 * the others) to copy files into, and says which it made. A folder that cannot be made is a warning:
 * the feature that needs it says so again when it is used.
 */
export async function ensureDataFolders(config: Config, logger: Logger): Promise<string[]> {
  const created: string[] = [];
  for (const folder of dataFolders(config)) {
    if ((await stat(folder.directory).catch(() => undefined))?.isDirectory()) continue;
    try {
      await mkdir(folder.directory, { recursive: true });
      created.push(`${folder.directory} (${folder.variable}: ${folder.holds})`);
    } catch (error) {
      logger.warn(
        `could not create ${folder.variable}=${folder.directory}: ${(error as Error).message}; set ${folder.variable} to a writable folder`,
      );
    }
  }
  if (created.length > 0) logger.info(`created data folders: ${created.join(', ')}`);
  return created;
}
