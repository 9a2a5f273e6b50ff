import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { ensureDataFolders } from '../../src/core/data-folders.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('data folders', () => {
  it('creates the configured folders a fresh clone lacks, says which, and leaves existing ones', async () => {
    const root = temporaryDirectory('data-folders-');
    try {
      const config = loadConfig({
        REF_AUDIO_DIR: path.join(root, 'ref_audio'),
        CACHE_DIR: path.join(root, 'cache'),
        MODEL_DIR: path.join(root, 'models'),
        VIDEO_AVATAR_DIR: path.join(root, 'avatars'),
        VIDEO_OUTPUT_DIR: path.join(root, 'output'),
        ENABLE_VIDEO: 'true',
      });
      const { logger, lines } = capturingLogger();
      const created = await ensureDataFolders(config, logger);
      for (const name of ['ref_audio', 'cache', 'models', 'avatars', 'output'])
        assert.ok(statSync(path.join(root, name)).isDirectory(), name);
      assert.equal(created.length, 5);
      assert.match(lines[0].msg, /created data folders: .*ref_audio \(REF_AUDIO_DIR: voices\)/);

      const again = capturingLogger();
      assert.deepEqual(await ensureDataFolders(config, again.logger), []);
      assert.equal(again.lines.length, 0, 'nothing to say when all exist');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('makes the video folders only with ENABLE_VIDEO, and warns about a folder it cannot make', async () => {
    const root = temporaryDirectory('data-folders-');
    try {
      const blocked = path.join(root, 'cache');
      const config = loadConfig({
        REF_AUDIO_DIR: path.join(root, 'ref_audio'),
        CACHE_DIR: path.join(blocked, 'inside'),
        MODEL_DIR: path.join(root, 'models'),
        VIDEO_AVATAR_DIR: path.join(root, 'avatars'),
      });
      // A file where a folder should go.
      writeFileSync(blocked, 'not a folder');
      const { logger, lines } = capturingLogger();
      await ensureDataFolders(config, logger);
      assert.ok(existsSync(path.join(root, 'ref_audio')));
      assert.ok(!existsSync(path.join(root, 'avatars')));
      assert.ok(lines.some((line) => line.level === 40 && /could not create CACHE_DIR=/.test(line.msg)));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
