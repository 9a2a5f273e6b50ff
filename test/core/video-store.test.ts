import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { VideoStore } from '../../src/core/video-store.ts';
import { ServerError } from '../../src/errors.ts';
import { eventually } from '../helper.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

describe('VideoStore', () => {
  const directory = temporaryDirectory('video-store-');
  after(() => rmSync(directory, { recursive: true, force: true }));
  const store = new VideoStore({ directory: path.join(directory, 'videos'), keepSeconds: 60 });

  it('saves under an unguessable name, leaving no partial file', async () => {
    const name = await store.save(Buffer.from('mp4'));
    assert.match(name, /^[0-9a-f-]{36}\.mp4$/);
    assert.deepEqual(readdirSync(path.join(directory, 'videos')), [name]);
    assert.deepEqual(store.find(name), { root: path.join(directory, 'videos'), name });
  });

  it('forgets and deletes videos older than keepSeconds, and nothing it did not write', async () => {
    const old = await store.save(Buffer.from('old'));
    const fresh = await store.save(Buffer.from('fresh'));
    const foreign = path.join(directory, 'videos', 'interview-final.mp4');
    writeFileSync(foreign, 'a user file');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(path.join(directory, 'videos', old), twoMinutesAgo, twoMinutesAgo);
    utimesSync(foreign, twoMinutesAgo, twoMinutesAgo);

    assert.equal(store.find(old), undefined, 'expired videos are not served');
    assert.equal(await store.removeExpired(), 1);
    assert.ok(!existsSync(path.join(directory, 'videos', old)));
    assert.ok(store.find(fresh));
    assert.ok(existsSync(foreign), 'a file the store did not name is left alone');
    assert.equal(store.find('interview-final.mp4'), undefined);
  });

  it('removes temporary files of writes that died, once they are a minute old', async () => {
    const videos = path.join(directory, 'videos');
    const dead = path.join(videos, '.0b6e2d6a-1c1e-4a8e-9d3f-2f1f6a0c9b1e.mp4.partial');
    const underWay = path.join(videos, '.1b6e2d6a-1c1e-4a8e-9d3f-2f1f6a0c9b1e.mp4.partial');
    writeFileSync(dead, 'half');
    writeFileSync(underWay, 'half');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    utimesSync(dead, twoMinutesAgo, twoMinutesAgo);
    await store.removeExpired();
    assert.ok(!existsSync(dead));
    assert.ok(existsSync(underWay), 'a write under way is left alone');
  });

  it('answers a failed write with a 507 that says what to do, leaving nothing behind', async () => {
    const blocked = path.join(directory, 'not-a-folder');
    writeFileSync(blocked, 'a file where the folder should be');
    const broken = new VideoStore({ directory: blocked, keepSeconds: 60 });
    await assert.rejects(broken.save(Buffer.from('mp4')), (error: unknown) => {
      assert.ok(error instanceof ServerError);
      assert.equal(error.statusCode, 507);
      assert.match(error.message, /free space in VIDEO_OUTPUT_DIR/);
      return true;
    });
  });

  it('deletes expired videos by itself, without waiting for the next render', async () => {
    const videos = path.join(directory, 'swept');
    const swept = new VideoStore({ directory: videos, keepSeconds: 1 });
    const name = await swept.save(Buffer.from('mp4'));
    swept.startSweeping();
    try {
      await eventually(
        () => existsSync(path.join(videos, name)),
        (exists) => !exists,
        5000,
      );
    } finally {
      swept.close();
    }
  });

  it('rejects names that try to leave the folder', () => {
    for (const name of ['../videos/x.mp4', '/etc/passwd', '.x.mp4.partial', ''])
      assert.equal(store.find(name), undefined, name);
  });
});
