import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, SEED_REFERENCE_NAME, type TestApp } from '../helper.ts';
import { FakeTtsEngine } from '../support/fake-tts-engine.ts';

/**
 * NewAvata (tts_engine=qwen3tts) uses this server as its TTS backend. Its lip-sync path does not check
 * /health first: it posts {text, language: "Korean", ref_audio: QWEN3_TTS_REF_AUDIO, ref_text,
 * split_sentences: false} to /tts/voice_clone?model_size=… and accepts any audio/* answer. That request
 * must work unchanged, with its default ref_audio (a Windows path) as well as a URL.
 */
describe("NewAvata's callback to /tts/voice_clone", () => {
  let test: TestApp;
  let engine: FakeTtsEngine;
  let audioServer: http.Server;
  let audioUrl: string;
  before(async () => {
    engine = new FakeTtsEngine();
    test = await buildTestApp({ engine, environment: { REF_AUDIO_ALLOW_PRIVATE_URLS: 'true' } });
    const bytes = readFileSync(path.join(test.referenceDirectory, SEED_REFERENCE_NAME));
    audioServer = http.createServer((_request, response) => response.end(bytes));
    await new Promise<void>((resolve) => audioServer.listen(0, '127.0.0.1', resolve));
    audioUrl = `http://127.0.0.1:${(audioServer.address() as AddressInfo).port}/static/voice.mp3`;
  });
  after(async () => {
    audioServer.close();
    await test.close();
  });

  it("finds NewAvata's default Windows ref_audio by its file name in REF_AUDIO_DIR", async () => {
    const response = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone?model_size=0.6b',
      payload: {
        text: '안녕하세요.',
        language: 'Korean',
        ref_audio: 'c:/Qwen3-TTS/sample(1).mp3',
        ref_text: '안녕하세요, 반갑습니다.',
        split_sentences: false,
      },
    });
    assert.equal(response.statusCode, 200, response.body);
  });

  it('speaks with a reference given as a URL, as one piece', async () => {
    engine.requests.length = 0;
    const response = await test.app.inject({
      method: 'POST',
      url: '/tts/voice_clone?model_size=1.7b',
      payload: {
        text: '안녕하세요. 자기소개 부탁드립니다.',
        language: 'Korean',
        ref_audio: audioUrl,
        ref_text: '안녕하세요, 반갑습니다.',
        split_sentences: false,
      },
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^audio\//);
    assert.equal(engine.requests.length, 1);
    assert.equal(engine.requests[0].model, 'base_1.7b');
  });
});
