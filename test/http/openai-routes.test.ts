import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { atempoChain } from '../../src/media/speech-encoder.ts';
import { wavHeader } from '../../src/audio/wav.ts';
import { buildTestApp, eventually, writeReferenceAudio, type TestApp } from '../helper.ts';
import { FakeTtsEngine, requestGate } from '../support/fake-tts-engine.ts';

const TEXT = '안녕하세요. 면접을 시작하겠습니다. 자기소개를 부탁드립니다.';

/** Seconds of audio ffmpeg decodes from the bytes (proves the container and codec are real). */
function decodedSeconds(bytes: Buffer): number {
  const result = spawnSync(
    ffmpegPath(),
    ['-v', 'error', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '24000', 'pipe:1'],
    {
      input: bytes,
      maxBuffer: 64 << 20,
    },
  );
  assert.equal(result.status, 0, result.stderr.toString());
  return result.stdout.length / 2 / 24000;
}

/** Raw 16-bit 24 kHz PCM with a WAV header, so that ffmpeg can read it. */
function wavOf(pcm: Buffer): Buffer {
  return Buffer.concat([wavHeader(24000, pcm.length), pcm]);
}

describe('atempoChain', () => {
  it('keeps every factor within atempo’s 0.5–2', () => {
    assert.equal(atempoChain(1.5), 'atempo=1.5');
    assert.equal(atempoChain(4), 'atempo=2,atempo=2');
    assert.equal(atempoChain(0.25), 'atempo=0.5,atempo=0.5');
    assert.equal(atempoChain(3), 'atempo=2,atempo=1.5');
  });
});

describe('OpenAI-compatible speech API', () => {
  let test: TestApp;
  let engine: FakeTtsEngine;
  const speak = (body: Record<string, unknown>) =>
    test.app.inject({
      method: 'POST',
      url: '/v1/audio/speech',
      payload: { input: TEXT, voice: 'interviewer', ...body },
    });

  before(async () => {
    engine = new FakeTtsEngine();
    test = await buildTestApp({ engine });
    writeReferenceAudio(path.join(test.referenceDirectory, 'interviewer.wav'), 3, 180);
    writeFileSync(path.join(test.referenceDirectory, 'interviewer.txt'), '안녕하세요, 반갑습니다.\n');
  });
  after(async () => test.close());

  it('lists the audio files in REF_AUDIO_DIR as voices, with their transcripts', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/v1/audio/voices' });
    assert.deepEqual(response.json(), {
      voices: [
        {
          id: 'interviewer',
          name: 'interviewer',
          file: 'interviewer.wav',
          has_transcript: true,
          ref_text: '안녕하세요, 반갑습니다.',
        },
        { id: 'sample(1)', name: 'sample(1)', file: 'sample(1).mp3', has_transcript: false },
      ],
    });
  });

  it('speaks in a named voice with its transcript (ICL), as MP3 by default', async () => {
    engine.voiceRequests.length = 0;
    const response = await speak({ model: 'tts-1', seed: 3 });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-type'], 'audio/mpeg');
    assert.equal(response.headers['x-voice'], 'interviewer');
    assert.ok(decodedSeconds(response.rawPayload) > 0.5);
    assert.equal(engine.voiceRequests[0].referenceText, '안녕하세요, 반갑습니다.');
    assert.equal(engine.voiceRequests[0].xVectorOnly, false);
    assert.equal(engine.requests.at(-1)!.model, 'base_0.6b');
  });

  it('clones from timbre alone when a voice has no transcript', async () => {
    engine.voiceRequests.length = 0;
    const response = await speak({ voice: 'sample(1)', response_format: 'wav' });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(engine.voiceRequests[0].xVectorOnly, true);
  });

  it('answers every format as real, decodable audio of the same length', async () => {
    const wav = await speak({ response_format: 'wav', seed: 5 });
    const pcm = await speak({ response_format: 'pcm', seed: 5 });
    assert.equal(wav.headers['content-type'], 'audio/wav');
    assert.equal(pcm.headers['content-type'], 'audio/pcm');
    assert.equal(pcm.headers['x-sample-rate'], '24000');
    assert.deepEqual(wav.rawPayload.subarray(44), pcm.rawPayload, 'the WAV holds exactly the PCM');
    const seconds = pcm.rawPayload.length / 2 / 24000;
    for (const [format, type, magic] of [
      ['flac', 'audio/flac', 'fLaC'],
      ['opus', 'audio/ogg; codecs=opus', 'OggS'],
      ['aac', 'audio/aac', undefined],
      ['mp3', 'audio/mpeg', undefined],
    ] as const) {
      const response = await speak({ response_format: format, seed: 5 });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['content-type'], type);
      if (magic) assert.equal(response.rawPayload.subarray(0, 4).toString('latin1'), magic);
      assert.ok(
        Math.abs(decodedSeconds(response.rawPayload) - seconds) < 0.1,
        `${format} lasts ${seconds} s`,
      );
    }
  });

  it('streams SSE deltas that add up to the same audio, then done', async () => {
    const pcm = await speak({ response_format: 'pcm', seed: 9 });
    const response = await speak({ response_format: 'pcm', seed: 9, stream_format: 'sse' });
    assert.match(String(response.headers['content-type']), /^text\/event-stream/);
    const frames = response.body
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: '))
      .map((frame) => JSON.parse(frame.slice(6)) as { type: string; audio?: string; usage?: unknown });
    assert.ok(frames.filter((frame) => frame.type === 'speech.audio.delta').length > 1, 'several deltas');
    assert.equal(frames.at(-1)!.type, 'speech.audio.done');
    const joined = Buffer.concat(
      frames.filter((frame) => frame.audio).map((frame) => Buffer.from(frame.audio!, 'base64')),
    );
    assert.deepEqual(joined, pcm.rawPayload);
  });

  it('changes the tempo with speed, in every format, keeping the sample rate', async () => {
    const normal = await speak({ response_format: 'pcm', seed: 6 });
    const seconds = normal.rawPayload.length / 2 / 24000;
    for (const [speed, format] of [
      [2, 'pcm'],
      [0.5, 'wav'],
      [4, 'mp3'],
      [0.25, 'pcm'],
      [0.25, 'opus'],
    ] as const) {
      const response = await speak({ response_format: format, seed: 6, speed });
      assert.equal(response.statusCode, 200, response.body);
      const lasts = decodedSeconds(format === 'pcm' ? wavOf(response.rawPayload) : response.rawPayload);
      assert.ok(
        Math.abs(lasts - seconds / speed) < 0.15,
        `at ${speed}× ${format} lasts ${lasts} s, not ${seconds / speed}`,
      );
    }
  });

  it('says in a header that instructions were not followed', async () => {
    const response = await speak({ response_format: 'wav', instructions: 'Speak cheerfully.' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['x-ignored']), /instructions/);
  });

  it('accepts ref_audio and ref_text instead of a voice', async () => {
    engine.voiceRequests.length = 0;
    const response = await speak({
      voice: undefined,
      ref_audio: 'interviewer.wav',
      ref_text: '안녕하세요, 반갑습니다.',
      response_format: 'wav',
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(engine.voiceRequests[0].xVectorOnly, false);
  });

  const invalid: [string, Record<string, unknown>, number, RegExp][] = [
    ['an unknown voice', { voice: 'nobody' }, 404, /no voice named \\"nobody\\".*interviewer/],
    ['no voice and no ref_audio', { voice: undefined }, 422, /send voice/],
    ['a speed above 4', { speed: 5 }, 422, /speed must be a number from 0\.25 to 4/],
    ['input of the wrong type', { input: 5 }, 422, /input/],
    ['an unknown model', { model: 'gpt-5' }, 422, /model must be one of/],
    ['an unknown format', { response_format: 'ogg' }, 422, /response_format must be one of/],
    ['empty input', { input: '  ' }, 422, /empty/],
  ];
  for (const [name, body, status, message] of invalid) {
    it(`rejects ${name} with a ${status}`, async () => {
      const response = await speak(body);
      assert.equal(response.statusCode, status, response.body);
      assert.match(response.body, message);
      // OpenAI's SDKs show error.message.
      const { error } = response.json() as { error: { message: string; type: string } };
      assert.equal(error.type, 'invalid_request_error');
      assert.ok(error.message.length > 10, error.message);
    });
  }
});

describe('OpenAI-compatible speech over a real connection', () => {
  it('sends the first MP3 bytes while later sentences are still being generated', async () => {
    // Later sentences wait until the client has its first bytes (or 10 s): a server that held the
    // audio back until the end would only send them after that wait, with every sentence started.
    const laterSentences = requestGate(1);
    const engine = new FakeTtsEngine({ beforeRequest: laterSentences.beforeRequest });
    const test = await buildTestApp({ engine });
    try {
      const baseUrl = await test.app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${baseUrl}/v1/audio/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: TEXT, voice: 'sample(1)', response_format: 'mp3' }),
        signal: AbortSignal.timeout(30_000),
      });
      assert.equal(response.status, 200);
      let sentencesAtFirstBytes: number | undefined;
      let bytes = 0;
      for await (const chunk of response.body!) {
        if (sentencesAtFirstBytes === undefined && chunk.length > 0) {
          sentencesAtFirstBytes = engine.requests.length;
          laterSentences.release();
        }
        bytes += chunk.length;
      }
      assert.ok(sentencesAtFirstBytes !== undefined && bytes > 0, 'some MP3 came');
      assert.ok(
        sentencesAtFirstBytes < 3,
        `the first bytes came after ${sentencesAtFirstBytes} of 3 sentences started`,
      );
      assert.equal(engine.requests.length, 3, 'every sentence was spoken');
    } finally {
      await test.close();
    }
  });
  it('stops generating when the client hangs up mid-stream', async () => {
    const engine = new FakeTtsEngine({ partDelayMs: 80 });
    const test = await buildTestApp({ engine });
    try {
      const baseUrl = await test.app.listen({ host: '127.0.0.1', port: 0 });
      const controller = new AbortController();
      const response = await fetch(`${baseUrl}/v1/audio/speech`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: TEXT, voice: 'sample(1)', response_format: 'opus' }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      await eventually(
        () => engine.cancelledRequests,
        (count) => count > 0,
        3000,
      );
      assert.equal(engine.cancelledRequests, 1, 'the engine saw the cancellation');
      const started = engine.requests.length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(engine.requests.length, started, 'no further sentences were started');
    } finally {
      await test.close();
    }
  });
});
