import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { VideoStreams } from '../../src/core/video-streams.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

describe('VideoStreams', () => {
  const directory = temporaryDirectory('video-streams-');
  after(() => rmSync(directory, { recursive: true, force: true }));
  const streams = new VideoStreams({ directory, keepSeconds: 60 });
  const twoMinutesAgo = new Date(Date.now() - 120_000);

  it('serves only the files an engine writes, in folders it made, until they expire', async () => {
    const stream = await streams.create();
    assert.equal(stream.playlistUrl, `/video/streams/${stream.id}/index.m3u8`);
    writeFileSync(path.join(stream.directory, 'index.m3u8'), '#EXTM3U\n');
    writeFileSync(path.join(stream.directory, 'notes.txt'), 'not a stream file');
    assert.equal(streams.find(stream.id, 'index.m3u8')?.type, 'application/vnd.apple.mpegurl');
    assert.equal(streams.find(stream.id, 'notes.txt'), undefined);
    assert.equal(streams.find(stream.id, '../index.m3u8'), undefined);
    assert.equal(streams.find('not-a-stream', 'index.m3u8'), undefined);
    utimesSync(stream.directory, twoMinutesAgo, twoMinutesAgo);
    assert.equal(streams.find(stream.id, 'index.m3u8'), undefined, 'an expired stream is not served');
  });

  it('removes expired stream folders, and nothing it did not make', async () => {
    const old = await streams.create();
    const fresh = await streams.create();
    const foreign = path.join(directory, 'my-recordings');
    mkdirSync(foreign);
    for (const folder of [old.directory, foreign]) utimesSync(folder, twoMinutesAgo, twoMinutesAgo);
    assert.equal(await streams.removeExpired(), 2, 'the old stream and the one expired above');
    assert.ok(!existsSync(old.directory));
    assert.ok(existsSync(fresh.directory));
    assert.ok(existsSync(foreign), 'a folder the store did not name is left alone');
  });
});
