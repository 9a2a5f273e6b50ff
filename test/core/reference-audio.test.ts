import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeWav } from '../../src/audio/wav.ts';
import {
  ReferenceAudioResolver,
  sniffAudioFormat,
  type ReferenceAudioOptions,
} from '../../src/core/reference-audio.ts';
import { isPrivateAddress } from '../../src/core/safe-download.ts';
import { InvalidInputError } from '../../src/errors.ts';
import { writeReferenceAudio } from '../helper.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const directory = temporaryDirectory('reference-audio-');
const outsideDirectory = temporaryDirectory('outside-');

function tone(seconds: number, sampleRate = 44100): Float32Array {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  for (let index = 0; index < samples.length; index += 1)
    samples[index] = 0.4 * Math.sin((2 * Math.PI * 220 * index) / sampleRate);
  return samples;
}

function ffmpegTone(file: string, seconds = 2): Buffer {
  writeReferenceAudio(file, seconds, 330);
  return readFileSync(file);
}

const options = (overrides: Partial<ReferenceAudioOptions> = {}): ReferenceAudioOptions => ({
  directory,
  maxBytes: 2_000_000,
  minSeconds: 1,
  maxSeconds: 10,
  urlTimeoutMs: 2000,
  connectTimeoutMs: 1000,
  allowPrivateUrls: true,
  ...overrides,
});

const signal = () => AbortSignal.timeout(20000);

async function rejectsWith(promise: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof InvalidInputError, String(error));
    assert.equal(error.statusCode, status, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('reference audio', () => {
  const wavBytes = encodeWav(tone(2, 44100), 44100);
  let server: http.Server;
  let baseUrl: string;
  before(async () => {
    writeFileSync(path.join(directory, 'voice.wav'), wavBytes);
    ffmpegTone(path.join(directory, 'sample(1).mp3'));
    mkdirSync(path.join(directory, 'nested'));
    writeFileSync(path.join(directory, 'nested', 'inner.wav'), wavBytes);
    writeFileSync(path.join(outsideDirectory, 'secret.wav'), wavBytes);
    symlinkSync(path.join(outsideDirectory, 'secret.wav'), path.join(directory, 'escape.wav'));
    server = http.createServer((request, response) => {
      if (request.url === '/voice.wav') return response.end(wavBytes);
      if (request.url === '/big') {
        response.write(Buffer.alloc(1_500_000));
        return response.end(Buffer.alloc(1_500_000));
      }
      if (request.url === '/slow') return void setTimeout(() => response.end(wavBytes), 5000);
      if (request.url === '/trickle') {
        // A byte every 200 ms: alive, but far too slow to wait for.
        response.writeHead(200, { 'content-type': 'audio/wav' });
        const timer = setInterval(() => response.write(Buffer.alloc(1)), 200);
        response.on('close', () => clearInterval(timer));
        return;
      }
      if (request.url === '/redirect-private') {
        response.writeHead(302, { location: 'http://10.0.0.1/voice.wav' });
        return response.end();
      }
      if (request.url === '/redirect-ok') {
        response.writeHead(302, { location: '/voice.wav' });
        return response.end();
      }
      response.writeHead(404);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  describe('paths inside REF_AUDIO_DIR', () => {
    const resolver = new ReferenceAudioResolver(options());
    it('reads a WAV and resamples it to 24 kHz mono', async () => {
      const audio = await resolver.resolve('voice.wav', signal());
      assert.equal(audio.sampleRate, 24000);
      assert.ok(Math.abs(audio.samples.length - 48000) <= 1);
      assert.match(audio.hash, /^[0-9a-f]{64}$/);
      assert.equal(audio.original?.mediaType, 'audio/wav');
    });
    it("reads the seed's example name with parentheses (an MP3, through ffmpeg)", async () => {
      const audio = await resolver.resolve('sample(1).mp3', signal());
      assert.ok(Math.abs(audio.samples.length / 24000 - 2) < 0.1);
    });
    it('reads nested files and absolute paths inside the folder', async () => {
      await resolver.resolve('nested/inner.wav', signal());
      await resolver.resolve(path.join(directory, 'voice.wav'), signal());
    });
    it("looks up a Windows path (NewAvata's default) by its file name in the folder", async () => {
      const expected = await resolver.resolve('sample(1).mp3', signal());
      for (const value of [
        'c:/Qwen3-TTS/sample(1).mp3',
        'C:\\Qwen3-TTS\\sample(1).mp3',
        '\\\\host\\share\\sample(1).mp3',
      ])
        assert.equal((await resolver.resolve(value, signal())).hash, expected.hash, value);
    });
    const refused: [string, string, number, RegExp][] = [
      [
        'Windows paths whose file is not in the folder',
        'c:/voices/absent.mp3',
        404,
        /"absent\.mp3" was looked up in REF_AUDIO_DIR/,
      ],
      ['Windows paths that end in a folder', 'c:\\voices\\..', 400, /does not end in a file name/],
      ['.. escapes', '../outside/secret.wav', 400, /outside REF_AUDIO_DIR/],
      ['absolute paths elsewhere', '/etc/passwd', 400, /outside REF_AUDIO_DIR/],
      ['symlinks that leave the folder', 'escape.wav', 400, /outside REF_AUDIO_DIR/],
      ['missing files', 'missing.wav', 404, /missing\.wav.*not found/],
      ['folders', 'nested', 400, /not a file/],
    ];
    for (const [name, value, status, message] of refused) {
      it(`refuses ${name}`, () => rejectsWith(resolver.resolve(value, signal()), status, message));
    }
    it('never names the machine path of REF_AUDIO_DIR in a message', async () => {
      await assert.rejects(
        resolver.resolve('missing.wav', signal()),
        (error: Error) => !error.message.includes(directory),
      );
    });
  });

  describe('formats by content', () => {
    const resolver = new ReferenceAudioResolver(options());
    for (const extension of ['mp3', 'flac', 'ogg', 'm4a']) {
      it(`decodes ${extension} given as base64`, async () => {
        const bytes = ffmpegTone(path.join(outsideDirectory, `tone.${extension}`));
        const audio = await resolver.resolve(bytes.toString('base64'), signal());
        assert.ok(Math.abs(audio.samples.length / 24000 - 2) < 0.15, `${audio.samples.length}`);
      });
    }
    it('reads a data URL', async () => {
      const audio = await resolver.resolve(`data:audio/wav;base64,${wavBytes.toString('base64')}`, signal());
      assert.equal(audio.sampleRate, 24000);
    });
    const sniffed: [string, Buffer, string | undefined][] = [
      ['wav', wavBytes, 'wav'],
      ['flac', Buffer.from('fLaC\0\0\0\0\0\0\0\0'), 'flac'],
      ['ogg', Buffer.from('OggS\0\0\0\0\0\0\0\0'), 'ogg'],
      ['m4a', Buffer.from('\0\0\0\x20ftypM4A \0\0\0\0', 'latin1'), 'm4a'],
      ['mp3 with ID3', Buffer.from('ID3\x04\0\0\0\0\0\0\0\0', 'latin1'), 'mp3'],
      ['text', Buffer.from('just some text here'), undefined],
    ];
    for (const [name, bytes, format] of sniffed)
      it(`sniffs ${name}`, () => assert.equal(sniffAudioFormat(bytes), format));
  });

  describe('limits', () => {
    it('refuses bytes that are not audio', () =>
      rejectsWith(
        new ReferenceAudioResolver(options()).resolve(
          Buffer.from('x'.repeat(300)).toString('base64'),
          signal(),
        ),
        422,
        /not audio/,
      ));
    it('refuses audio that claims to be MP3 but is not', () =>
      rejectsWith(
        new ReferenceAudioResolver(options()).resolve(
          Buffer.concat([Buffer.from('ID3'), Buffer.alloc(400, 7)]).toString('base64'),
          signal(),
        ),
        422,
        /not audio that can be decoded/,
      ));
    it('refuses too short audio', () =>
      rejectsWith(
        new ReferenceAudioResolver(options()).resolve(
          encodeWav(tone(0.3), 44100).toString('base64'),
          signal(),
        ),
        422,
        /between 1 and 10 s/,
      ));
    it('refuses too long audio', () =>
      rejectsWith(
        new ReferenceAudioResolver(options({ maxBytes: 10_000_000 })).resolve(
          encodeWav(tone(11, 16000), 16000).toString('base64'),
          signal(),
        ),
        422,
        /between 1 and 10 s/,
      ));
    it('refuses too many bytes with a 413', () =>
      rejectsWith(
        new ReferenceAudioResolver(options({ maxBytes: 1000 })).resolve(
          wavBytes.toString('base64'),
          signal(),
        ),
        413,
        /REF_AUDIO_MAX_BYTES/,
      ));
    it('refuses silence', () =>
      rejectsWith(
        new ReferenceAudioResolver(options()).resolve(
          encodeWav(new Float32Array(48000), 24000).toString('base64'),
          signal(),
        ),
        422,
        /silent/,
      ));
  });

  describe('URLs', () => {
    it('downloads from an allowed host', async () => {
      const audio = await new ReferenceAudioResolver(options()).resolve(`${baseUrl}/voice.wav`, signal());
      assert.equal(audio.sampleRate, 24000);
    });
    it('follows a redirect', async () => {
      await new ReferenceAudioResolver(options()).resolve(`${baseUrl}/redirect-ok`, signal());
    });
    it('refuses loopback when private URLs are not allowed', () =>
      rejectsWith(
        new ReferenceAudioResolver(options({ allowPrivateUrls: false })).resolve(
          `${baseUrl}/voice.wav`,
          signal(),
        ),
        400,
        /loopback, private or link-local/,
      ));
    it('refuses a public-looking name that resolves to a private address', () =>
      rejectsWith(
        new ReferenceAudioResolver(
          options({ allowPrivateUrls: false, resolver: async () => [{ address: '127.0.0.1', family: 4 }] }),
        ).resolve('http://voice.example.com/voice.wav', signal()),
        400,
        /voice\.example\.com is a loopback, private or link-local/,
      ));
    it('re-checks redirects against private addresses', () =>
      rejectsWith(
        new ReferenceAudioResolver(
          options({ allowPrivateUrls: false, resolver: async () => [{ address: '127.0.0.1', family: 4 }] }),
        ).resolve(`http://public.example.com:${new URL(baseUrl).port}/redirect-private`, signal()),
        400,
        /private/,
      ));
    it('stops a download over the byte cap with a 413', () =>
      rejectsWith(
        new ReferenceAudioResolver(options()).resolve(`${baseUrl}/big`, signal()),
        413,
        /REF_AUDIO_MAX_BYTES/,
      ));
    it('gives up on a slow server after the total timeout', () =>
      rejectsWith(
        new ReferenceAudioResolver(options({ urlTimeoutMs: 300 })).resolve(`${baseUrl}/slow`, signal()),
        422,
        /took over 300 ms/,
      ));
    it('gives up on a server that trickles, once its average rate is under the minimum', async () => {
      const startedAt = Date.now();
      await rejectsWith(
        new ReferenceAudioResolver(options({ urlTimeoutMs: 20000, urlMinBytesPerSecond: 1000 })).resolve(
          `${baseUrl}/trickle`,
          signal(),
        ),
        422,
        /under the 1000 bytes\/s .*REF_AUDIO_URL_MIN_BYTES_PER_S/,
      );
      assert.ok(Date.now() - startedAt < 6000, 'given up within seconds, not at the total timeout');
    });
    it('reports an HTTP error status', () =>
      rejectsWith(
        new ReferenceAudioResolver(options()).resolve(`${baseUrl}/nothing-here`, signal()),
        422,
        /HTTP 404/,
      ));
    it('refuses other URL schemes', () =>
      rejectsWith(
        new ReferenceAudioResolver(options()).resolve('file:///etc/passwd', signal()),
        400,
        /http:\/\/ or https:\/\//,
      ));
    const addresses: [string, boolean][] = [
      ['127.0.0.1', true],
      ['10.1.2.3', true],
      ['172.16.0.1', true],
      ['192.168.1.1', true],
      ['169.254.169.254', true],
      ['100.64.0.1', true],
      ['0.0.0.0', true],
      ['::1', true],
      ['fe80::1', true],
      ['fd00::1', true],
      ['::ffff:127.0.0.1', true],
      ['::ffff:7f00:1', true],
      ['::7f00:1', true],
      ['::127.0.0.1', true],
      ['64:ff9b::7f00:1', true],
      ['64:ff9b::10.0.0.1', true],
      ['64:ff9b:1::a00:1', true],
      ['::ffff:0:7f00:1', true],
      ['2002:7f00:1::1', true],
      ['2002:a9fe:a9fe::', true],
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', true],
      ['2001:0:7f00:1:8000:63bf:3fff:fdd2', true],
      ['2001:db8::1', true],
      ['not an address', true],
      ['64:ff9b::808:808', false],
      ['2002:808:808::1', false],
      ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', false],
      ['8.8.8.8', false],
      ['1.1.1.1', false],
      ['2606:4700:4700::1111', false],
    ];
    for (const [address, isPrivate] of addresses)
      it(`${address} is ${isPrivate ? '' : 'not '}private`, () =>
        assert.equal(isPrivateAddress(address), isPrivate));
  });

  it('caches decoded audio by content', async () => {
    const resolver = new ReferenceAudioResolver(options());
    const first = await resolver.resolve('voice.wav', signal());
    const second = await resolver.resolve(wavBytes.toString('base64'), signal());
    assert.equal(first, second);
  });
});
