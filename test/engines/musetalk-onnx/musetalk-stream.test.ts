import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.ts';
import { MuseTalkEngine } from '../../../src/engines/musetalk-onnx/engine.ts';
import type { RenderStreamPart } from '../../../src/engines/interfaces/lipsync-engine.ts';
import { ffmpegPath } from '../../../src/media/ffmpeg.ts';
import { setUpFfmpeg } from '../../../src/media/ffmpeg-choice.ts';
import { writeSyntheticMuseTalkModel } from '../../../src/models/synth-musetalk.ts';
import { singleFacePhoto } from '../../support/face-photos.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

/** The video frames ffmpeg decodes, and whether there is AAC sound, from a file or playlist (the npm package ships no ffprobe). */
function decode(input: string): { frames: number; audio: boolean; log: string } {
  const result = spawnSync(ffmpegPath(), ['-hide_banner', '-i', input, '-f', 'null', '-'], {
    encoding: 'utf8',
    timeout: 30000,
  });
  assert.equal(result.status, 0, result.stderr);
  const frames = [...result.stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1];
  return {
    frames: Number(frames),
    audio: /Stream #\S+: Audio: aac/.test(result.stderr),
    log: result.stderr,
  };
}

describe('embedded MuseTalk engine, live HLS stream', () => {
  const work = temporaryDirectory('musetalk-stream-');
  let engine: MuseTalkEngine;
  before(async () => {
    // As the server does at startup: the system ffmpeg where it is recent enough (Chromium's own HLS
    // player refuses the fMP4 that the bundled 2018 build writes), handed on to the worker.
    await setUpFfmpeg(
      { FFMPEG_PATH: '', ENABLE_VIDEO: true, USE_NEWAVATA_API: false },
      { info: () => {}, warn: () => {} },
    );
    const modelDirectory = path.join(work, 'musetalk');
    await writeSyntheticMuseTalkModel(modelDirectory, { dtype: 'float32', size: 'tiny' });
    engine = new MuseTalkEngine(
      loadConfig({
        MUSETALK_MODEL_DIR: modelDirectory,
        CACHE_DIR: path.join(work, 'cache'),
        VIDEO_BATCH_SIZE: '4',
      }),
    );
  });
  after(async () => {
    await engine?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('reports a playable playlist before the render ends; its segments decode to the whole video and it ends with ENDLIST', async () => {
    // 3.2 s of a voice-like tone: 80 frames, i.e. three full 1 s segments and a short last one.
    const samples = Float32Array.from(
      { length: Math.round(16000 * 3.2) },
      (_value, index) => 0.3 * Math.sin(index / 8) * Math.abs(Math.sin(index / 3000)),
    );
    const directory = path.join(work, 'stream');
    mkdirSync(directory);
    const seen: { type: RenderStreamPart['type']; playlist?: string }[] = [];
    let mp4: Buffer | undefined;
    for await (const part of engine.render(
      {
        avatar: { kind: 'image', bytes: await singleFacePhoto(2) },
        speech: { samples, sampleRate: 16000 },
        text: '',
        language: 'Korean',
        model: 'base_0.6b',
        stream: { directory },
      },
      AbortSignal.timeout(90000),
    )) {
      if (part.type === 'render-playable') {
        assert.equal(part.playlist, 'index.m3u8');
        // What a player would read at this moment: at least one segment, and more to come.
        seen.push({ type: part.type, playlist: readFileSync(path.join(directory, part.playlist), 'utf8') });
      } else seen.push({ type: part.type });
      if (part.type === 'render-end') mp4 = part.mp4;
    }
    const playableAt = seen.findIndex(({ type }) => type === 'render-playable');
    assert.ok(playableAt >= 0, 'the engine reported the stream playable');
    assert.equal(seen.filter(({ type }) => type === 'render-playable').length, 1, 'reported once');
    const later = seen.slice(playableAt + 1).map(({ type }) => type);
    assert.ok(later.includes('render-progress'), `rendering went on after the stream was playable: ${later}`);
    const early = seen[playableAt].playlist!;
    assert.match(early, /#EXTINF:/);
    assert.doesNotMatch(early, /#EXT-X-ENDLIST/, 'playable before the playlist was complete');

    const playlist = readFileSync(path.join(directory, 'index.m3u8'), 'utf8');
    assert.match(playlist, /#EXT-X-PLAYLIST-TYPE:EVENT/);
    assert.match(playlist, /#EXT-X-MAP:URI="init\.mp4"/);
    assert.match(playlist.trimEnd(), /#EXT-X-ENDLIST$/);
    const segments = playlist.split('\n').filter((line) => line.endsWith('.m4s'));
    assert.equal(segments.length, 4, playlist);
    assert.deepEqual(
      readdirSync(directory).sort(),
      ['index.m3u8', 'init.mp4', ...segments].sort(),
      'only the playlist, its init file and its segments (no temporary files left)',
    );
    const stream = decode(path.join(directory, 'index.m3u8'));
    assert.equal(stream.frames, 80);
    const listed = [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].reduce(
      (sum, [, value]) => sum + Number(value),
      0,
    );
    assert.ok(Math.abs(listed - 3.2) <= 0.05, `the playlist lists ${listed} s`);
    assert.ok(stream.audio, `the segments carry the AAC speech: ${stream.log}`);
    const file = path.join(work, 'out.mp4');
    writeFileSync(file, mp4!);
    assert.equal(decode(file).frames, 80, 'the finished MP4 has the same frames');
  });
});
