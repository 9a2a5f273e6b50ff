import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { runModelsListCommand } from '../../src/models/installed-models-command.ts';
import { listInstalledModels } from '../../src/models/installed-models.ts';
import { modelRepository } from '../../src/models/model-registry.ts';
import { fakeQwenRepository } from './fake-hub.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

let root: string;
beforeEach(async () => {
  root = temporaryDirectory('models-list-');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function writeModel(directory: string, files: Record<string, Buffer | string>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(directory, file)), { recursive: true });
    await writeFile(path.join(directory, file), content);
  }
}

describe('listInstalledModels', () => {
  test('reports location, manifest state, variants, source and size per key', async () => {
    const repository = fakeQwenRepository();
    // base_0.6b: an export with only float32 complete, in MODEL_DIR.
    const { 'float16/talker.onnx': _skipped, ...withoutHalf } = repository.files;
    await writeModel(path.join(root, 'models', 'base_0.6b'), withoutHalf);
    // base_1.7b: a synthetic model in an explicit directory.
    const synthetic = JSON.parse(fakeQwenRepository('base_1.7b').files['manifest.json'].toString()) as {
      source: { synthetic: boolean };
    };
    synthetic.source.synthetic = true;
    await writeModel(path.join(root, 'elsewhere'), {
      ...fakeQwenRepository('base_1.7b').files,
      'manifest.json': JSON.stringify(synthetic),
    });
    // musetalk: a directory whose manifest is broken.
    await writeModel(path.join(root, 'models', 'musetalk'), { 'manifest.json': '{"format": 3' });

    const config = loadConfig({
      MODEL_DIR: path.join(root, 'models'),
      MODEL_1_7B_BASE: path.join(root, 'elsewhere'),
    });
    const [small, large, muse] = await listInstalledModels(config);

    assert.equal(small.key, 'base_0.6b');
    assert.equal(small.origin, 'model-dir');
    assert.equal(small.manifest, 'valid');
    assert.deepEqual(small.variants, ['float32']);
    assert.deepEqual(small.source, {
      kind: 'export',
      repository: 'Qwen/Qwen3-TTS-12Hz-0.6B-Base',
      revision: 'abc',
    });
    const expectedSize = Object.values(withoutHalf).reduce((sum, content) => sum + content.length, 0);
    assert.equal(small.sizeBytes, expectedSize);

    assert.equal(large.origin, 'variable');
    assert.equal(large.variable, 'MODEL_1_7B_BASE');
    assert.equal(large.directory, path.join(root, 'elsewhere'));
    assert.deepEqual(large.variants, ['float32', 'float16']);
    assert.deepEqual(large.source, { kind: 'synthetic' });

    assert.equal(muse.manifest, 'invalid');
    assert.match(muse.problem ?? '', /not JSON/);
    assert.deepEqual(muse.variants, []);

    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    await runModelsListCommand(config, output);
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^MODEL +STATE +VARIANTS +SOURCE +SIZE +DIRECTORY/);
    assert.match(text, /base_0\.6b +installed +float32 +export of Qwen\/Qwen3-TTS-12Hz-0\.6B-Base/);
    assert.match(
      text,
      /base_1\.7b +installed +float32,float16 +synthetic \(tests only\).*\(MODEL_1_7B_BASE\)/,
    );
    assert.match(text, /musetalk +invalid manifest/);
    assert.match(text, /models pull <musetalk>/);
  });

  test('a missing directory is reported as not installed', async () => {
    const [small] = await listInstalledModels(loadConfig({ MODEL_DIR: path.join(root, 'none') }));
    assert.equal(small.exists, false);
    assert.equal(small.manifest, 'missing');
    assert.equal(small.sizeBytes, 0);
  });
});

describe('modelRepository', () => {
  const cases = [
    { value: 'me/qwen-onnx', repository: 'me/qwen-onnx', revision: 'main' },
    { value: 'me/qwen-onnx@v1.2', repository: 'me/qwen-onnx', revision: 'v1.2' },
  ];
  for (const { value, ...expected } of cases) {
    test(value, () => {
      assert.deepEqual(modelRepository(loadConfig({ MODEL_REPO_BASE_0_6B: value }), 'base_0.6b'), expected);
    });
  }
  test('the defaults are empty: models pull exports the official checkpoint', () => {
    assert.equal(modelRepository(loadConfig({}), 'base_0.6b'), undefined);
  });
  test('a malformed repository is a configuration error', () => {
    assert.throws(
      () => loadConfig({ MODEL_REPO_MUSETALK: 'no-slash' }),
      /MODEL_REPO_MUSETALK="no-slash" is not valid/,
    );
  });
});
