import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, SEED_BODY, SEED_REFERENCE_NAME, writeReferenceAudio } from './helper.ts';
import { syntheticQwen3 } from './support/synthetic-models.ts';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('shutdown', () => {
  it('on SIGTERM mid-stream: the stream ends with an error event and the process exits 0', async () => {
    const model = await syntheticQwen3({ eosPosition: 200 });
    const references = mkdtempSync(path.join(tmpdir(), 'shutdown-ref-'));
    writeReferenceAudio(path.join(references, SEED_REFERENCE_NAME));
    const port = await freePort();
    const server = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
      env: {
        ...process.env,
        MODEL_0_6B_BASE: model,
        REF_AUDIO_DIR: references,
        CACHE_DIR: path.join(references, 'cache'),
        TTS_HOST: '127.0.0.1',
        TTS_PORT: String(port),
        SHUTDOWN_GRACE_S: '1',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(
        () =>
          fetch(`${base}/health`).then(
            (response) => response.status,
            () => 0,
          ),
        (status) => status === 200,
        30000,
      );
      const text = Array.from({ length: 30 }, (_, i) => `${i + 1}번째 문장입니다.`).join(' ');
      const response = await fetch(`${base}/tts/voice_clone/sse`, {
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
      server.kill('SIGTERM');
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        body += new TextDecoder().decode(value);
      }
      assert.match(body, /event: error\ndata: .*the server is shutting down/);
      assert.doesNotMatch(body, /event: done/);
      const code = await Promise.race([exited, sleep(20000, 'hung', { ref: false })]);
      assert.equal(code, 0, stderr.slice(-2000));
    } finally {
      server.kill('SIGKILL');
    }
  });
});
