import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import type { FastifyInstance } from 'fastify';
import { createServices } from '../src/app-services.ts';
import { loadConfig, type Config } from '../src/config.ts';
import type { LipsyncEngine } from '../src/engines/interfaces/lipsync-engine.ts';
import type { TtsEngine } from '../src/engines/interfaces/tts-engine.ts';
import { buildApp } from '../src/http/app.ts';
import { ffmpegPath } from '../src/media/ffmpeg.ts';
import { FakeTtsEngine, type FakeEngineOptions } from './support/fake-tts-engine.ts';
import { temporaryDirectory } from './support/temporary-directory.ts';

export interface TestApp {
  app: FastifyInstance;
  engine: TtsEngine;
  config: Config;
  referenceDirectory: string;
  close(): Promise<void>;
}

/** The seed's curl examples name this file; tests make their own (a tone, MP3) under that name. */
export const SEED_REFERENCE_NAME = 'sample(1).mp3';

/** Writes test reference audio with the bundled ffmpeg: a tone, in whatever format the file name says. */
export function writeReferenceAudio(file: string, seconds = 3, frequency = 220): void {
  execFileSync(ffmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${frequency}:sample_rate=44100:duration=${seconds}`,
    '-ac',
    '1',
    file,
  ]);
}

/** Builds the real app around a fake (or given) engine, with a temporary REF_AUDIO_DIR. */
export async function buildTestApp(
  options: {
    engine?: TtsEngine;
    engineOptions?: FakeEngineOptions;
    lipsync?: LipsyncEngine;
    environment?: Record<string, string>;
    /** Build the engine the configuration names (e.g. TTS_ENGINE=vllm-omni) instead of a test double. */
    configuredEngine?: boolean;
  } = {},
): Promise<TestApp> {
  const referenceDirectory = temporaryDirectory('ref-audio-');
  writeReferenceAudio(path.join(referenceDirectory, SEED_REFERENCE_NAME));
  const config = loadConfig({
    REF_AUDIO_DIR: referenceDirectory,
    CACHE_DIR: path.join(referenceDirectory, 'cache'),
    VIDEO_OUTPUT_DIR: path.join(referenceDirectory, 'videos'),
    LOG_LEVEL: 'silent',
    ...options.environment,
  });
  const engine = options.configuredEngine
    ? undefined
    : (options.engine ?? new FakeTtsEngine(options.engineOptions));
  const services = await createServices(config, pino({ level: 'silent' }), {
    engine,
    lipsync: options.lipsync,
  });
  const app = await buildApp(services, { logger: false });
  await app.ready();
  return {
    app,
    engine: services.engine,
    config,
    referenceDirectory,
    async close() {
      // A client may leave a connection it never sent a request on (fetch opens a spare one after
      // an abort); Node only drops it at its 60 s header timeout, so cut what is left after a
      // moment instead of waiting for that.
      const cut = setTimeout(() => app.server.closeAllConnections(), 1000);
      await app.close().finally(() => clearTimeout(cut));
      await services.close();
      rmSync(referenceDirectory, { recursive: true, force: true });
    },
  };
}

/** Parses a text/event-stream body into events. */
export function parseSse(body: string): { event: string; data: unknown }[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice(7) ?? 'message';
      const data = lines
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      return { event, data: JSON.parse(data) as unknown };
    });
}

/** The seed guide's curl body. */
export const SEED_BODY = {
  text: '안녕하세요. AI 면접관입니다. 먼저 간단히 자기소개를 부탁드립니다.',
  language: 'Korean',
  ref_audio: SEED_REFERENCE_NAME,
  ref_text: '안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.',
};

/**
 * Polls `read` until `done` holds, and returns that value; past `timeoutMs` it fails the test with the
 * last value seen. For state that changes in the background (a cancelled engine, a video job).
 */
export async function eventually<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
