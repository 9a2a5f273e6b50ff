import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startServerProcess } from '../bench/abuse/server-process.ts';
import { SEED_BODY, SEED_REFERENCE_NAME, writeReferenceAudio } from './helper.ts';
import { syntheticQwen3 } from './support/synthetic-models.ts';
import { temporaryDirectory } from './support/temporary-directory.ts';

describe('shutdown', () => {
  it('on SIGTERM mid-stream: the stream ends with an error event and the process exits 0', async () => {
    const model = await syntheticQwen3({ eosPosition: 200 });
    const references = temporaryDirectory('shutdown-ref-');
    writeReferenceAudio(path.join(references, SEED_REFERENCE_NAME));
    const server = await startServerProcess({
      MODEL_0_6B_BASE: model,
      REF_AUDIO_DIR: references,
      CACHE_DIR: path.join(references, 'cache'),
      SHUTDOWN_GRACE_S: '1',
      LOG_LEVEL: 'warn',
    });
    try {
      const text = Array.from({ length: 30 }, (_, i) => `${i + 1}번째 문장입니다.`).join(' ');
      const response = await fetch(`${server.base}/tts/voice_clone/sse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...SEED_BODY, text }),
        signal: AbortSignal.timeout(60000),
      });
      const reader = response.body!.getReader();
      let body = '';
      while (!body.includes('event: audio')) {
        const { value, done } = await reader.read();
        assert.ok(!done, `the stream ended before any audio: ${body}`);
        body += new TextDecoder().decode(value);
      }
      const exit = server.terminate(20000);
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        body += new TextDecoder().decode(value);
      }
      assert.match(body, /event: error\ndata: .*the server is shutting down/);
      assert.doesNotMatch(body, /event: done/);
      assert.equal((await exit).code, 0, server.output().slice(-2000));
    } finally {
      server.kill();
    }
  });
});
