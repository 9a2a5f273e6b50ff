import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { buildTestApp, writeReferenceAudio, type TestApp } from '../helper.ts';

/** The official `openai` npm SDK, unchanged, against this server (issue #12: real clients). */
describe('the official OpenAI SDK', () => {
  let test: TestApp;
  let client: OpenAI;
  before(async () => {
    test = await buildTestApp();
    writeReferenceAudio(path.join(test.referenceDirectory, 'interviewer.wav'), 3, 180);
    writeFileSync(path.join(test.referenceDirectory, 'interviewer.txt'), '안녕하세요, 반갑습니다.\n');
    const baseUrl = await test.app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ baseURL: `${baseUrl}/v1`, apiKey: 'not-needed', timeout: 20_000, maxRetries: 0 });
  });
  after(() => test.close());

  it('speaks a WAV and an MP3 through audio.speech.create', async () => {
    const wav = Buffer.from(
      await (
        await client.audio.speech.create({
          model: 'tts-1',
          voice: 'interviewer',
          input: '안녕하세요. 면접을 시작하겠습니다.',
          response_format: 'wav',
        })
      ).arrayBuffer(),
    );
    assert.equal(wav.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.equal(wav.readUInt32LE(24), 24000);
    assert.ok(wav.length > 44 + 24000, 'more than half a second of audio');

    const mp3 = Buffer.from(
      await (
        await client.audio.speech.create({
          model: 'tts-1',
          voice: 'interviewer',
          input: '네.',
          response_format: 'mp3',
        })
      ).arrayBuffer(),
    );
    assert.ok(mp3.length > 1000);
    assert.ok(mp3[0] === 0xff || mp3.subarray(0, 3).toString('latin1') === 'ID3', 'an MP3 stream');
  });

  it('streams with stream_format "sse" in OpenAI’s event shape', async () => {
    const response = await client.audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'interviewer',
      input: '첫 문장입니다. 둘째 문장입니다.',
      response_format: 'pcm',
      stream_format: 'sse',
    });
    const text = await response.text();
    const events = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; audio?: string });
    const deltas = events.filter((event) => event.type === 'speech.audio.delta');
    assert.ok(deltas.length >= 2, `audio deltas: ${deltas.length}`);
    assert.ok(deltas.every((event) => Buffer.from(event.audio ?? '', 'base64').length > 0));
    assert.equal(events.at(-1)?.type, 'speech.audio.done');
  });

  it('surfaces the server’s error as an APIError with its status and message', async () => {
    await assert.rejects(
      client.audio.speech.create({ model: 'tts-1', voice: 'nobody', input: '안녕하세요.' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 404);
        assert.match(error.message, /nobody/);
        return true;
      },
    );
  });
});
