import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { loadConfig, type Config } from '../../src/config.ts';
import { CancelledError } from '../../src/errors.ts';
import { listInstalledModels } from '../../src/models/installed-models.ts';
import { ModelPullError } from '../../src/models/pull-errors.ts';
import { pullModel, type PullProgress } from '../../src/models/pull.ts';
import { fakeQwenRepository, sha256Hex, startFakeHub, type FakeHub } from './fake-hub.ts';
import { freePort } from '../../bench/abuse/server-process.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const REPOSITORY = 'test-owner/qwen-0.6b-onnx';
const fast = { retryDelayMs: 10, connectTimeoutMs: 2000, stallTimeoutMs: 2000 };

let modelDirectory: string;
let hub: FakeHub | undefined;

beforeEach(async () => {
  modelDirectory = temporaryDirectory('models-pull-');
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await rm(modelDirectory, { recursive: true, force: true });
});

function configFor(endpoint: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    MODEL_DIR: modelDirectory,
    HF_ENDPOINT: endpoint,
    MODEL_REPO_BASE_0_6B: REPOSITORY,
    TTS_DTYPE: 'float32',
    ...extra,
  });
}

async function listFiles(directory: string, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) names.push(...(await listFiles(path.join(directory, entry.name), relative)));
    else names.push(relative);
  }
  return names.sort();
}

async function expectPullError(
  promise: Promise<unknown>,
  code: string,
  pattern: RegExp,
): Promise<ModelPullError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ModelPullError, `expected ModelPullError, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.match(error.message, pattern);
  return error;
}

describe('pullModel', () => {
  test('installs the chosen variant and the shared files, each checked, manifest last', async () => {
    const repository = fakeQwenRepository();
    hub = await startFakeHub({ repositories: { [REPOSITORY]: repository.files } });
    const progress: PullProgress[] = [];
    const result = await pullModel('base_0.6b', {
      config: configFor(hub.endpoint),
      onProgress: (event) => progress.push(event),
      ...fast,
    });
    const directory = path.join(modelDirectory, 'base_0.6b');
    assert.equal(result.directory, directory);
    assert.deepEqual(result.variants, ['float32']);
    assert.deepEqual(await listFiles(directory), [
      'float32/codec_embedding.bin',
      'float32/talker.onnx',
      'manifest.json',
      'pull.json',
      'tokenizer/merges.txt',
      'tokenizer/vocab.json',
    ]);
    for (const file of result.files) {
      assert.deepEqual(await readFile(path.join(directory, file)), repository.contents[file], file);
    }
    assert.deepEqual(
      await readFile(path.join(directory, 'manifest.json')),
      repository.files['manifest.json'],
    );
    const total = 200_000 + 50_000 + 7 + 14;
    const last = progress.at(-1);
    assert.equal(last?.phase, 'done');
    assert.equal(last?.bytes, total);
    assert.equal(last?.totalBytes, total);
    assert.ok(progress.some((event) => event.phase === 'downloading' && event.bytes < total));
    // The manifest is the first file fetched.
    const resolves = hub.requests.filter((request) => request.url.includes('/resolve/'));
    assert.match(resolves[0].url, /\/resolve\/main\/manifest\.json$/);

    const [installed] = await listInstalledModels(configFor(hub.endpoint));
    assert.equal(installed.manifest, 'valid');
    assert.deepEqual(installed.variants, ['float32']);
    assert.deepEqual(installed.source, {
      kind: 'hub',
      repository: REPOSITORY,
      revision: 'main',
      endpoint: hub.endpoint,
    });

    // A second pull finds everything in place and downloads nothing; adding float16 fetches only it.
    const again = await pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast });
    assert.deepEqual(again.downloaded, []);
    const both = await pullModel('base_0.6b', { config: configFor(hub.endpoint), dtype: 'all', ...fast });
    assert.deepEqual(both.downloaded, ['float16/talker.onnx']);
    const [afterBoth] = await listInstalledModels(configFor(hub.endpoint));
    assert.deepEqual(afterBoth.variants, ['float32', 'float16']);
  });

  test('resumes with a Range request after the connection drops mid-file', async () => {
    const repository = fakeQwenRepository();
    hub = await startFakeHub({
      repositories: { [REPOSITORY]: repository.files },
      dropAfterBytes: { 'float32/talker.onnx': 70_000 },
    });
    await pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast });
    const talker = hub.requests.filter((request) => request.url.endsWith('/float32/talker.onnx'));
    assert.equal(talker.length, 2);
    assert.equal(talker[0].headers.range, undefined);
    assert.equal(talker[1].headers.range, 'bytes=70000-');
    const bytes = await readFile(path.join(modelDirectory, 'base_0.6b', 'float32/talker.onnx'));
    assert.equal(sha256Hex(bytes), sha256Hex(repository.contents['float32/talker.onnx']));
  });

  test('continues a .part file left by an interrupted earlier run', async () => {
    const repository = fakeQwenRepository();
    hub = await startFakeHub({ repositories: { [REPOSITORY]: repository.files } });
    const part = path.join(modelDirectory, 'base_0.6b', 'float32', 'talker.onnx.part');
    await mkdir(path.dirname(part), { recursive: true });
    await writeFile(part, repository.contents['float32/talker.onnx'].subarray(0, 123_456));
    const result = await pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast });
    assert.ok(result.downloaded.includes('float32/talker.onnx'));
    const talker = hub.requests.filter((request) => request.url.endsWith('/float32/talker.onnx'));
    assert.deepEqual(
      talker.map((request) => request.headers.range),
      ['bytes=123456-'],
    );
    await assert.rejects(stat(part), { code: 'ENOENT' });
  });

  test('starts over when the server answers a Range request with the whole file', async () => {
    const repository = fakeQwenRepository();
    hub = await startFakeHub({
      repositories: { [REPOSITORY]: repository.files },
      dropAfterBytes: { 'float32/talker.onnx': 50_000 },
      ignoreRange: true,
      withoutTree: true,
    });
    await pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast });
    const bytes = await readFile(path.join(modelDirectory, 'base_0.6b', 'float32/talker.onnx'));
    assert.deepEqual(bytes, repository.contents['float32/talker.onnx']);
  });

  test('fails after too many dropped connections and keeps the bytes for the next run', async () => {
    const repository = fakeQwenRepository();
    hub = await startFakeHub({
      repositories: { [REPOSITORY]: repository.files },
      dropAfterBytes: { 'float32/talker.onnx': 90_000 },
      dropTimes: 10,
    });
    await expectPullError(
      pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast, attempts: 2 }),
      'download_interrupted',
      /float32\/talker\.onnx failed 2 times.*run the same command again/,
    );
    const part = await stat(path.join(modelDirectory, 'base_0.6b', 'float32', 'talker.onnx.part'));
    assert.equal(part.size, 180_000);
    await assert.rejects(stat(path.join(modelDirectory, 'base_0.6b', 'manifest.json')), { code: 'ENOENT' });
  });

  test('a checksum mismatch deletes the file and fails clearly', async () => {
    const repository = fakeQwenRepository();
    const corrupted = { ...repository.files, 'float32/codec_embedding.bin': Buffer.alloc(50_000, 4) };
    hub = await startFakeHub({ repositories: { [REPOSITORY]: corrupted } });
    await expectPullError(
      pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast }),
      'checksum_mismatch',
      /float32\/codec_embedding\.bin .* is corrupt: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}/,
    );
    const directory = path.join(modelDirectory, 'base_0.6b');
    const left = await listFiles(directory);
    assert.ok(!left.some((file) => file.startsWith('float32/codec_embedding.bin')), left.join(', '));
    assert.ok(!left.includes('manifest.json'));
  });

  test('sends the HF_TOKEN as a bearer token, and says what to do without it', async () => {
    const repository = fakeQwenRepository();
    hub = await startFakeHub({
      repositories: { [REPOSITORY]: repository.files },
      requiredToken: 'secret-token',
    });
    await expectPullError(
      pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast }),
      'hub_http_error',
      /401 .*set HF_TOKEN/,
    );
    hub.requests.length = 0;
    await pullModel('base_0.6b', { config: configFor(hub.endpoint, { HF_TOKEN: 'secret-token' }), ...fast });
    assert.ok(hub.requests.length > 3);
    for (const request of hub.requests) assert.equal(request.headers.authorization, 'Bearer secret-token');
  });

  test('fails fast when nothing listens at HF_ENDPOINT', async () => {
    const unused = await freePort();
    const started = Date.now();
    const error = await expectPullError(
      pullModel('base_0.6b', { config: configFor(`http://127.0.0.1:${unused}`), ...fast }),
      'hub_unreachable',
      new RegExp(
        `cannot reach the model hub at http://127\\.0\\.0\\.1:${unused} .*HF_ENDPOINT.*MODEL_0_6B_BASE`,
      ),
    );
    assert.match(error.message, /ECONNREFUSED/);
    assert.ok(Date.now() - started < 2000);
  });

  test('fails fast when the hub accepts connections but never answers', async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const started = Date.now();
    try {
      await expectPullError(
        pullModel('base_0.6b', {
          config: configFor(`http://127.0.0.1:${port}`),
          ...fast,
          connectTimeoutMs: 300,
        }),
        'hub_unreachable',
        /no answer within 300 ms/,
      );
      assert.ok(Date.now() - started < 2000);
    } finally {
      silent.close();
      silent.unref();
    }
  });

  test('stops when the signal aborts, keeping the partial bytes', async () => {
    const repository = fakeQwenRepository();
    hub = await startFakeHub({ repositories: { [REPOSITORY]: repository.files } });
    const controller = new AbortController();
    const error = await pullModel('base_0.6b', {
      config: configFor(hub.endpoint),
      signal: controller.signal,
      onProgress: (event) => {
        if (event.phase === 'downloading' && event.file === 'float32/talker.onnx' && event.bytes > 0)
          controller.abort();
      },
      ...fast,
    }).then(
      () => assert.fail('expected a cancellation'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof CancelledError, String(error));
    await assert.rejects(stat(path.join(modelDirectory, 'base_0.6b', 'manifest.json')), { code: 'ENOENT' });
  });

  test('a missing repository names the variable to fix', async () => {
    hub = await startFakeHub({ repositories: {} });
    await expectPullError(
      pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast }),
      'hub_http_error',
      /404.*MODEL_REPO_BASE_0_6B=test-owner\/qwen-0\.6b-onnx/,
    );
  });

  const refusals: {
    name: string;
    key: string;
    environment: Record<string, string>;
    code: string;
    pattern: RegExp;
  }[] = [
    {
      name: 'an explicit model directory is never written',
      key: 'base_0.6b',
      environment: { MODEL_0_6B_BASE: 'somewhere/else' },
      code: 'directory_is_explicit',
      pattern: /MODEL_0_6B_BASE is set to .*never writes into it/,
    },
    {
      name: 'MuseTalk without an export repository says what to fetch by hand, before any request',
      key: 'musetalk',
      environment: {},
      code: 'repository_not_set',
      pattern: /cannot be exported automatically: its face-parser weights are not on the hub/,
    },
    {
      name: 'bfloat16 has no ONNX variant',
      key: 'base_0.6b',
      environment: { TTS_DTYPE: 'bfloat16' },
      code: 'variant_missing',
      pattern: /no bfloat16 variant.*--dtype/,
    },
  ];
  for (const refusal of refusals) {
    test(refusal.name, async () => {
      hub = await startFakeHub({ repositories: {} });
      await expectPullError(
        pullModel(refusal.key, { config: configFor(hub.endpoint, refusal.environment), ...fast }),
        refusal.code,
        refusal.pattern,
      );
      assert.equal(hub.requests.length, 0);
      assert.deepEqual(await readdir(modelDirectory), []);
    });
  }

  test('rejects a manifest whose paths leave the model directory', async () => {
    const manifest = {
      format: 'qwen3-tts-onnx',
      contractVersion: 1,
      variants: { float32: { directory: 'float32', dtype: 'float32' } },
      files: { sha256: { '../escape.txt': sha256Hex('x') } },
    };
    hub = await startFakeHub({
      repositories: { [REPOSITORY]: { 'manifest.json': Buffer.from(JSON.stringify(manifest)) } },
    });
    await expectPullError(
      pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast }),
      'manifest_invalid',
      /files\.sha256.*relative path inside the model directory/,
    );
  });

  test('rejects a manifest for another model', async () => {
    const repository = fakeQwenRepository('base_1.7b');
    hub = await startFakeHub({ repositories: { [REPOSITORY]: repository.files } });
    await expectPullError(
      pullModel('base_0.6b', { config: configFor(hub.endpoint), ...fast }),
      'manifest_invalid',
      /describes base_1\.7b, not base_0\.6b/,
    );
  });
});
