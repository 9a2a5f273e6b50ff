import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { runModelsPullCommand } from '../../src/models/pull-command.ts';
import { fakeQwenRepository, startFakeHub } from './fake-hub.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

test('models pull prints one line per downloaded file and a summary when not on a terminal', async () => {
  const root = temporaryDirectory('models-pull-command-');
  const hub = await startFakeHub({ repositories: { 'me/qwen': fakeQwenRepository().files } });
  try {
    const config = loadConfig({
      MODEL_DIR: root,
      HF_ENDPOINT: hub.endpoint,
      MODEL_REPO_BASE_0_6B: 'me/qwen',
    });
    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    const result = await runModelsPullCommand('base_0.6b', { config, dtype: 'float16', output });
    assert.deepEqual(result.variants, ['float16']);
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^pulling base_0\.6b…\n/);
    assert.match(text, /downloading float16\/talker\.onnx \(1\/3\)\n/);
    assert.match(
      text,
      /base_0\.6b \(float16\) is installed in .* from me\/qwen@main: 3 file\(s\) downloaded, 0 already present\./,
    );
  } finally {
    await hub.close();
    await rm(root, { recursive: true, force: true });
  }
});
