import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createServices } from '../../src/app-services.ts';
import { loadConfig } from '../../src/config.ts';
import {
  chooseFfmpeg,
  isRecentEnough,
  parseFfmpegVersion,
  setUpFfmpeg,
} from '../../src/media/ffmpeg-choice.ts';
import { bundledFfmpegPath, ffmpegPath } from '../../src/media/ffmpeg.ts';
import { buildTestApp } from '../helper.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const ALL_ENCODERS = ['libx264', 'aac', 'flac', 'libmp3lame', 'libopus'];
const DEBIAN_12 = 'ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers';
const UBUNTU_22_04 = 'ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021 the FFmpeg developers';
const BUNDLED =
  'ffmpeg version N-47683-g0e8eb07980-static https://johnvansickle.com/ffmpeg/  Copyright (c) 2000-2018 the FFmpeg developers';

/**
 * Writes `<directory>/ffmpeg`: a shell script that prints `versionLine` for -version and lists
 * `encoders` for -encoders, and hands anything else to the bundled ffmpeg, so that a fake chosen
 * for the whole process still encodes and decodes.
 */
function writeFakeFfmpeg(
  directory: string,
  versionLine: string,
  encoders: string[] = ALL_ENCODERS,
  options: { exitCode?: number } = {},
): string {
  mkdirSync(directory, { recursive: true });
  const file = path.join(directory, 'ffmpeg');
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  const listing = [
    'Encoders:',
    ' V..... = Video',
    ' A..... = Audio',
    ' ------',
    ...encoders.map((name) => ` ${name === 'libx264' ? 'V' : 'A'}..... ${name.padEnd(20)} ${name}`),
  ];
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      ...(options.exitCode !== undefined ? [`exit ${options.exitCode}`] : []),
      'case "$*" in',
      `  -version) printf '%s\\n' ${quote(versionLine)} 'built with gcc' ;;`,
      `  *-encoders*) printf '%s\\n' ${listing.map(quote).join(' ')} ;;`,
      `  *) exec ${quote(bundledFfmpegPath())} "$@" ;;`,
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}

describe('ffmpeg version parsing', () => {
  const cases: { line: string; release?: [number, number]; year?: number; recent: boolean }[] = [
    { line: DEBIAN_12, release: [5, 1], year: 2024, recent: true },
    { line: UBUNTU_22_04, release: [4, 4], year: 2021, recent: false },
    {
      line: 'ffmpeg version n7.0.2 Copyright (c) 2000-2024 the FFmpeg developers',
      release: [7, 0],
      recent: true,
    },
    {
      line: 'ffmpeg version 6.1.1-3ubuntu5 Copyright (c) 2000-2023 the FFmpeg developers',
      release: [6, 1],
      recent: true,
    },
    {
      line: 'ffmpeg version 5.0.1 Copyright (c) 2000-2022 the FFmpeg developers',
      release: [5, 0],
      recent: false,
    },
    {
      line: 'ffmpeg version N-113000-g0123abcd Copyright (c) 2000-2024 the FFmpeg developers',
      year: 2024,
      recent: true,
    },
    { line: BUNDLED, year: 2018, recent: false },
    {
      line: 'ffmpeg version 2023-05-04-git-4006c71d19-essentials_build-www.gyan.dev Copyright (c) 2000-2023 the FFmpeg developers',
      year: 2023,
      recent: true,
    },
    { line: 'ffmpeg version custom-build', recent: false },
  ];
  for (const testCase of cases) {
    it(`reads "${testCase.line.slice(15, 60)}"`, () => {
      const version = parseFfmpegVersion(`${testCase.line}\nbuilt with gcc 12\n`);
      assert.ok(version);
      assert.deepEqual(version.release, testCase.release);
      if (testCase.year) assert.equal(version.year, testCase.year);
      assert.equal(isRecentEnough(version), testCase.recent);
    });
  }

  it('is undefined for output that is not ffmpeg’s', () => {
    assert.equal(parseFfmpegVersion('Usage: something else\n'), undefined);
    assert.equal(parseFfmpegVersion(''), undefined);
  });
});

describe('choosing the ffmpeg', () => {
  let root: string;
  let fakeBundled: string;
  let counter = 0;
  const directory = () => path.join(root, `case-${++counter}`);
  // A fake bundled build, so that the tests do not depend on which ffmpeg this machine has.
  const bundledPath = () => fakeBundled;

  before(() => {
    root = temporaryDirectory('ffmpeg-choice-');
    fakeBundled = writeFakeFfmpeg(path.join(root, 'bundled'), BUNDLED);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('uses a recent system ffmpeg, without a warning', async () => {
    const system = writeFakeFfmpeg(directory(), DEBIAN_12);
    const choice = await chooseFfmpeg({
      configuredPath: '',
      video: true,
      searchPath: path.dirname(system),
      bundledPath,
    });
    assert.deepEqual(choice, { source: 'system', path: system, version: '5.1.6-0+deb12u1', warnings: [] });
  });

  it('skips directories without ffmpeg and relative PATH entries', async () => {
    const system = writeFakeFfmpeg(directory(), DEBIAN_12);
    const relative = path.relative(process.cwd(), writeFakeFfmpeg(directory(), UBUNTU_22_04));
    const searchPath = [path.join(root, 'empty'), path.dirname(relative), path.dirname(system)].join(
      path.delimiter,
    );
    const choice = await chooseFfmpeg({ configuredPath: '', video: false, searchPath, bundledPath });
    assert.equal(choice.path, system);
  });

  it('prefers the bundled build to an old system ffmpeg, and warns how to fix it', async () => {
    const system = writeFakeFfmpeg(directory(), UBUNTU_22_04);
    const choice = await chooseFfmpeg({
      configuredPath: '',
      video: false,
      searchPath: path.dirname(system),
      bundledPath,
    });
    assert.equal(choice.source, 'bundled');
    assert.equal(choice.path, fakeBundled);
    assert.equal(choice.version, 'N-47683-g0e8eb07980-static');
    assert.equal(choice.warnings.length, 1);
    const [warning] = choice.warnings;
    assert.match(
      warning,
      new RegExp(`the system ffmpeg \\(${system}\\) is 4\\.4\\.2-0ubuntu0\\.22\\.04\\.1, older than 5\\.1`),
    );
    assert.match(warning, /bundled ffmpeg N-47683-g0e8eb07980-static \(2018\) is used: an old build/);
    assert.match(warning, /decodes untrusted uploads and URLs/);
    assert.match(warning, /install your distribution's ffmpeg \(5\.1 or newer/);
    assert.ok(warning.includes(`FFMPEG_PATH=${system} uses that one anyway`), warning);
  });

  it('uses the bundled build when there is no ffmpeg on PATH, and warns', async () => {
    const choice = await chooseFfmpeg({
      configuredPath: '',
      video: true,
      searchPath: path.join(root, 'none'),
    });
    assert.equal(choice.source, 'bundled');
    assert.equal(choice.path, bundledFfmpegPath());
    assert.ok(choice.version);
    assert.equal(choice.warnings.length, 1);
    assert.match(
      choice.warnings[0],
      /^there is no ffmpeg on PATH, so the bundled ffmpeg .* is used: an old build/,
    );
    assert.match(choice.warnings[0], /or set FFMPEG_PATH$/);
  });

  it('prefers the bundled build to a system ffmpeg that lacks an encoder the server needs, and says which', async () => {
    const system = writeFakeFfmpeg(
      directory(),
      DEBIAN_12,
      ALL_ENCODERS.filter((name) => name !== 'libmp3lame'),
    );
    const choice = await chooseFfmpeg({
      configuredPath: '',
      video: false,
      searchPath: path.dirname(system),
      bundledPath,
    });
    assert.equal(choice.source, 'bundled');
    assert.match(
      choice.warnings[0],
      /^the system ffmpeg \(.*, 5\.1\.6-0\+deb12u1\) lacks the encoder libmp3lame \(mp3 speech\), so the bundled/,
    );
  });

  it('needs libx264 only when this server encodes video itself', async () => {
    const system = writeFakeFfmpeg(
      directory(),
      DEBIAN_12,
      ALL_ENCODERS.filter((name) => name !== 'libx264'),
    );
    const options = { configuredPath: '', searchPath: path.dirname(system), bundledPath };
    assert.equal((await chooseFfmpeg({ ...options, video: false })).source, 'system');
    const withVideo = await chooseFfmpeg({ ...options, video: true });
    assert.equal(withVideo.source, 'bundled');
    assert.match(withVideo.warnings[0], /lacks the encoder libx264 \(video\)/);
  });

  it('uses the system ffmpeg anyway when the bundled build does not run, and says so', async () => {
    const system = writeFakeFfmpeg(directory(), UBUNTU_22_04);
    const choice = await chooseFfmpeg({
      configuredPath: '',
      video: false,
      searchPath: path.dirname(system),
      bundledPath: () => {
        throw new Error('Unsupported platform/architecture: linux-riscv64');
      },
    });
    assert.equal(choice.source, 'system');
    assert.match(choice.warnings[0], /older than 5\.1, but the bundled ffmpeg is not usable \(.*riscv64\)/);
  });

  it('uses FFMPEG_PATH as given, before a system ffmpeg', async () => {
    const configured = writeFakeFfmpeg(
      directory(),
      'ffmpeg version 7.1 Copyright (c) 2000-2024 the FFmpeg developers',
    );
    const system = writeFakeFfmpeg(directory(), DEBIAN_12);
    const choice = await chooseFfmpeg({
      configuredPath: configured,
      video: true,
      searchPath: path.dirname(system),
      bundledPath,
    });
    assert.deepEqual(choice, { source: 'FFMPEG_PATH', path: configured, version: '7.1', warnings: [] });
  });

  it('uses an old FFMPEG_PATH too, with a warning', async () => {
    const configured = writeFakeFfmpeg(directory(), UBUNTU_22_04, ['aac', 'flac']);
    const choice = await chooseFfmpeg({ configuredPath: configured, video: false, bundledPath });
    assert.equal(choice.source, 'FFMPEG_PATH');
    assert.match(
      choice.warnings[0],
      /^FFMPEG_PATH names ffmpeg 4\.4\.2-0ubuntu0\.22\.04\.1, older than 5\.1/,
    );
    assert.match(
      choice.warnings[1],
      /lacks the encoders libmp3lame \(mp3 speech\), libopus \(opus speech\): those outputs will fail/,
    );
  });

  const notRunnable: { name: string; make: () => string; reason: RegExp }[] = [
    { name: 'a missing file', make: () => path.join(root, 'missing', 'ffmpeg'), reason: /\(no such file\)/ },
    {
      name: 'a program that fails',
      make: () => writeFakeFfmpeg(directory(), DEBIAN_12, ALL_ENCODERS, { exitCode: 1 }),
      reason: /\(it exited with code 1\)/,
    },
    {
      name: 'a program that is not ffmpeg',
      make: () => writeFakeFfmpeg(directory(), 'Usage: not-ffmpeg [options]'),
      reason: /did not print "ffmpeg version …" but "Usage: not-ffmpeg/,
    },
  ];
  for (const testCase of notRunnable) {
    it(`refuses an FFMPEG_PATH that names ${testCase.name}, saying why`, async () => {
      const configured = testCase.make();
      await assert.rejects(
        chooseFfmpeg({ configuredPath: configured, video: false, bundledPath }),
        (error: Error) => {
          assert.ok(
            error.message.startsWith(`FFMPEG_PATH=${configured} does not run as ffmpeg (`),
            error.message,
          );
          assert.match(error.message, testCase.reason);
          assert.match(error.message, /set it to an ffmpeg binary, or leave it empty/);
          return true;
        },
      );
    });
  }

  it('stops startup when FFMPEG_PATH does not run', async () => {
    const configured = path.join(root, 'missing', 'ffmpeg');
    const config = loadConfig({ FFMPEG_PATH: configured, LOG_LEVEL: 'silent' });
    await assert.rejects(
      createServices(config, pino({ level: 'silent' })),
      /FFMPEG_PATH=.* does not run as ffmpeg/,
    );
  });

  it('logs the choice with its path and the warning at startup, and every spawn uses it', async () => {
    const system = writeFakeFfmpeg(directory(), UBUNTU_22_04);
    const savedPath = process.env.PATH;
    const lines: string[] = [];
    process.env.PATH = path.dirname(system);
    try {
      const config = loadConfig({ LOG_LEVEL: 'silent' });
      const choice = await setUpFfmpeg(config, {
        info: (message) => lines.push(`info: ${message}`),
        warn: (message) => lines.push(`warn: ${message}`),
      });
      assert.equal(choice.source, 'bundled');
      assert.equal(ffmpegPath(), bundledFfmpegPath());
      assert.equal(lines.length, 2, lines.join('\n'));
      assert.equal(
        lines[0],
        `info: ffmpeg ${choice.version} bundled with the npm package (${bundledFfmpegPath()})`,
      );
      assert.match(lines[1], /^warn: the system ffmpeg .* older than 5\.1, so the bundled ffmpeg/);

      process.env.PATH = path.dirname(writeFakeFfmpeg(directory(), DEBIAN_12));
      lines.length = 0;
      const recent = await setUpFfmpeg(config, {
        info: (message) => lines.push(message),
        warn: (message) => lines.push(message),
      });
      assert.equal(recent.source, 'system');
      assert.equal(ffmpegPath(), recent.path);
      assert.deepEqual(lines, [`ffmpeg 5.1.6-0+deb12u1 from the system (${recent.path})`]);
    } finally {
      process.env.PATH = savedPath;
      await setUpFfmpeg(loadConfig({ LOG_LEVEL: 'silent' }), { info: () => {}, warn: () => {} });
    }
  });

  it('GET /info shows the source and version of the ffmpeg in use, not its path', async () => {
    const configured = writeFakeFfmpeg(
      directory(),
      'ffmpeg version 6.1.1-test Copyright (c) 2000-2023 the FFmpeg developers',
    );
    const test = await buildTestApp({ environment: { FFMPEG_PATH: configured } });
    try {
      const response = await test.app.inject({ method: 'GET', url: '/info' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json().ffmpeg, { source: 'FFMPEG_PATH', version: '6.1.1-test' });
      assert.ok(!response.body.includes(root), 'no machine path in /info');
      assert.equal(ffmpegPath(), configured);
      // The chosen ffmpeg encodes the speech (the fake hands encoding to the bundled build).
      const speech = await test.app.inject({
        method: 'POST',
        url: '/v1/audio/speech',
        payload: { input: '안녕하세요.', voice: 'sample(1)', response_format: 'mp3' },
      });
      assert.equal(speech.statusCode, 200, speech.body);
      assert.ok(speech.rawPayload.length > 100);
    } finally {
      await test.close();
      await setUpFfmpeg(loadConfig({ LOG_LEVEL: 'silent' }), { info: () => {}, warn: () => {} });
    }
  });
});
