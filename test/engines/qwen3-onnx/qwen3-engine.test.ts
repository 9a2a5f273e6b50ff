import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, type Config } from '../../../src/config.ts';
import { Qwen3OnnxEngine, variantFor } from '../../../src/engines/qwen3-onnx/engine.ts';
import type { ReferenceAudio, SpeechRequest, VoicePrompt } from '../../../src/engines/interfaces/index.ts';
import { EngineFailedError, EngineUnavailableError, ModelNotAvailableError } from '../../../src/errors.ts';
import { chooseProvider } from '../../../src/onnx/session-options.ts';
import { writeSyntheticQwen3Model } from '../../../src/models/synth-qwen3.ts';
import { syntheticQwen3 } from '../../support/synthetic-models.ts';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { collectSpeechStream } from '../../support/speech-stream.ts';
import { temporaryDirectory } from '../../support/temporary-directory.ts';

function referenceAudio(seconds = 3, pitch = 180): ReferenceAudio {
  const samples = Float32Array.from(
    { length: 24000 * seconds },
    (_value, index) =>
      0.3 * Math.sin((2 * Math.PI * pitch * index) / 24000) * (0.6 + 0.4 * Math.sin(index / 4000)),
  );
  return {
    samples,
    sampleRate: 24000,
    hash: createHash('sha256').update(new Uint8Array(samples.buffer)).digest('hex'),
  };
}

const sampling = {
  seed: 7,
  temperature: 0.9,
  topK: 50,
  topP: 1,
  repetitionPenalty: 1.05,
  doSample: true,
  maxNewTokens: 2048,
};

describe('Qwen3 ONNX engine on a synthetic model', () => {
  let engine: Qwen3OnnxEngine;
  let config: Config;
  let voice: VoicePrompt;
  const request = (overrides: Partial<SpeechRequest> = {}): SpeechRequest => ({
    model: 'base_0.6b',
    text: '안녕하세요. 면접을 시작하겠습니다.',
    language: 'Korean',
    voice,
    sampling,
    streaming: true,
    ...overrides,
  });

  let directory: string;
  before(async () => {
    directory = await syntheticQwen3({ eosPosition: 120 });
    config = loadConfig({
      MODEL_0_6B_BASE: directory,
      CACHE_DIR: temporaryDirectory('voice-cache-'),
      TTS_WORKERS: '2',
    });
    engine = new Qwen3OnnxEngine(config, undefined, { allowTestHooks: true });
    await engine.loadModel('base_0.6b');
    voice = await engine.prepareVoice(
      {
        model: 'base_0.6b',
        reference: referenceAudio(),
        referenceText: '안녕하세요, 반갑습니다.',
        xVectorOnly: false,
      },
      AbortSignal.timeout(20000),
    );
  });
  after(async () => {
    await engine.close();
    rmSync(config.CACHE_DIR, { recursive: true, force: true });
    rmSync(directory, { recursive: true, force: true });
  });

  it('runs the whole loop and stops at the model’s end of speech', async () => {
    const { audio, end } = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
    assert.equal(end.finishReason, 'end-of-speech');
    // The synthetic talker says EOS at absolute position 120: frames = 120 − (prompt rows − 1).
    assert.equal(end.frames, 120 - (end.timings!.promptRows - 1));
    assert.equal(audio.length, end.frames! * 1920);
    assert.ok(
      audio.some((sample) => Math.abs(sample) > 0.01),
      'not silence',
    );
  });

  it('gives byte-identical audio for the same seed and different audio for another', async () => {
    const first = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
    const second = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
    const other = await collectSpeechStream(
      engine.generate(request({ sampling: { ...sampling, seed: 8 } }), AbortSignal.timeout(30000)),
    );
    assert.deepEqual(Buffer.from(first.audio.buffer), Buffer.from(second.audio.buffer));
    assert.notDeepEqual(Buffer.from(first.audio.buffer), Buffer.from(other.audio.buffer));
  });

  it('is deterministic when greedy in both stages, whatever the seed', async () => {
    const greedy = { ...sampling, doSample: false, subtalker: { doSample: false } };
    const first = await collectSpeechStream(
      engine.generate(request({ sampling: { ...greedy, seed: 1 } }), AbortSignal.timeout(30000)),
    );
    const second = await collectSpeechStream(
      engine.generate(request({ sampling: { ...greedy, seed: 2 } }), AbortSignal.timeout(30000)),
    );
    assert.deepEqual(Buffer.from(first.audio.buffer), Buffer.from(second.audio.buffer));
  });

  it('samples the residual codes with the sub-talker settings, not the talker ones', async () => {
    // Greedy talker, sampling sub-talker (the model's default): the seed still changes the audio.
    const talkerGreedy = { ...sampling, doSample: false };
    const codesFor = async (seed: number, subtalker?: SpeechRequest['sampling']['subtalker']) =>
      (
        await collectSpeechStream(
          engine.generate(
            request({ sampling: { ...talkerGreedy, seed, subtalker } }),
            AbortSignal.timeout(30000),
          ),
        )
      ).end.codes!;
    const first = await codesFor(1);
    const second = await codesFor(2);
    assert.deepEqual(
      [...first].filter((_code, index) => index % 16 === 0),
      [...second].filter((_code, index) => index % 16 === 0),
      'the first code of each frame is the greedy talker’s',
    );
    assert.notDeepEqual([...first], [...second], 'the residual codes follow the seed');
    // top_k 1 makes the sampling sub-talker greedy, whatever the seed.
    assert.deepEqual([...(await codesFor(1, { topK: 1 }))], [...(await codesFor(2, { topK: 1 }))]);
  });

  it('streams audio in several parts, the first after a few frames', async () => {
    const { parts, end } = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
    assert.ok(parts >= 3, `${parts} parts`);
    assert.ok(end.timings!.firstAudioMs < end.timings!.totalMs / 2);
  });

  it('stops at max_new_tokens', async () => {
    const { end } = await collectSpeechStream(
      engine.generate(request({ sampling: { ...sampling, maxNewTokens: 11 } }), AbortSignal.timeout(30000)),
    );
    assert.equal(end.finishReason, 'length');
    assert.equal(end.frames, 10);
  });

  it('makes no frame for max_new_tokens 1, as the official loop (its one token never becomes a frame)', async () => {
    const { audio, end } = await collectSpeechStream(
      engine.generate(request({ sampling: { ...sampling, maxNewTokens: 1 } }), AbortSignal.timeout(30000)),
    );
    assert.equal(end.frames, 0);
    assert.equal(audio.length, 0);
  });

  it("takes unset settings from the model's generation_config, capped by TTS_MAX_NEW_TOKENS", async () => {
    const capped = new Qwen3OnnxEngine({ ...config, TTS_MAX_NEW_TOKENS: 6, TTS_WORKERS: 1 });
    try {
      await capped.loadModel('base_0.6b');
      const { end } = await collectSpeechStream(
        capped.generate(request({ sampling: { seed: 1 } }), AbortSignal.timeout(30000)),
      );
      assert.equal(end.frames, 5, 'the model default (8192) capped at 6 tokens: 5 frames');
    } finally {
      await capped.close();
    }
  });

  it('clones from the speaker embedding alone in x-vector mode', async () => {
    const xVoice = await engine.prepareVoice(
      { model: 'base_0.6b', reference: referenceAudio(), referenceText: 'ignored', xVectorOnly: true },
      AbortSignal.timeout(20000),
    );
    const { end } = await collectSpeechStream(
      engine.generate(request({ voice: xVoice }), AbortSignal.timeout(30000)),
    );
    assert.ok(end.frames! > 2);
    assert.ok(
      end.timings!.promptRows < (voice.data as { referenceFrames: number }).referenceFrames,
      'no reference codes in the prompt',
    );
  });

  it('uses the nothink prefix for Auto (one row shorter than with a language)', async () => {
    const korean = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
    const auto = await collectSpeechStream(
      engine.generate(request({ language: 'Auto' }), AbortSignal.timeout(30000)),
    );
    assert.equal(auto.end.timings!.promptRows, korean.end.timings!.promptRows - 1);
  });

  it('caches voice prompts by content, in memory and on disk', async () => {
    const reference = referenceAudio(2, 220);
    const first = await engine.prepareVoice(
      { model: 'base_0.6b', reference, referenceText: '테스트', xVectorOnly: false },
      AbortSignal.timeout(20000),
    );
    const startedAt = performance.now();
    const again = await engine.prepareVoice(
      { model: 'base_0.6b', reference, referenceText: '테스트', xVectorOnly: false },
      AbortSignal.timeout(20000),
    );
    assert.ok(performance.now() - startedAt < 5);
    assert.equal(again.id, first.id);
    assert.ok(readdirSync(path.join(config.CACHE_DIR, 'voices')).includes(`${first.id}.json`));
    const restarted = new Qwen3OnnxEngine(config);
    try {
      await restarted.loadModel('base_0.6b');
      const fromDisk = await restarted.prepareVoice(
        { model: 'base_0.6b', reference, referenceText: '테스트', xVectorOnly: false },
        AbortSignal.timeout(20000),
      );
      assert.deepEqual(fromDisk.data, first.data);
    } finally {
      await restarted.close();
    }
  });

  it('stops within one frame when cancelled', async () => {
    const controller = new AbortController();
    let parts = 0;
    await assert.rejects(
      (async () => {
        for await (const part of engine.generate(
          request({ sampling: { ...sampling, maxNewTokens: 4000 } }),
          controller.signal,
        )) {
          if (part.type === 'audio-delta' && ++parts === 1) controller.abort();
        }
      })(),
    );
    assert.equal(parts, 1);
    // The worker is free again at once: the next request runs normally.
    const { end } = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
    assert.equal(end.finishReason, 'end-of-speech');
  });

  it('keeps outputs apart when requests run at the same time', async () => {
    const alone = await Promise.all(
      [7, 8].map(
        async (seed) =>
          (
            await collectSpeechStream(
              engine.generate(request({ sampling: { ...sampling, seed } }), AbortSignal.timeout(30000)),
            )
          ).audio,
      ),
    );
    const together = await Promise.all(
      [7, 8, 7, 8].map(
        async (seed) =>
          (
            await collectSpeechStream(
              engine.generate(request({ sampling: { ...sampling, seed } }), AbortSignal.timeout(30000)),
            )
          ).audio,
      ),
    );
    assert.deepEqual(
      together.map((audio) => Buffer.from(audio.buffer)),
      [...alone, ...alone].map((audio) => Buffer.from(audio.buffer)),
    );
  });

  it('fails the request of a crashed worker with a 5xx, restarts it, and serves the next', async () => {
    const stream = engine.generate(
      request({ sampling: { ...sampling, maxNewTokens: 4000 } }),
      AbortSignal.timeout(30000),
    );
    await assert.rejects(
      (async () => {
        for await (const part of stream)
          if (part.type === 'audio-delta') engine.crashWorkersForTesting('base_0.6b');
      })(),
      (error: unknown) =>
        error instanceof EngineFailedError && error.statusCode >= 500 && /crashed/.test(error.message),
    );
    const deadline = Date.now() + 20000;
    let result: Awaited<ReturnType<typeof collectSpeechStream>> | undefined;
    while (!result && Date.now() < deadline) {
      try {
        result = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    assert.equal(result?.end.finishReason, 'end-of-speech');
  });

  it('warms up every worker, and serves normally afterwards', async () => {
    const milliseconds = await engine.warmUp('base_0.6b');
    assert.ok(milliseconds > 0);
    const { end } = await collectSpeechStream(engine.generate(request(), AbortSignal.timeout(30000)));
    assert.equal(end.finishReason, 'end-of-speech');
  });

  it('shuts down during synthesis: running and waiting requests get a 503, nothing is killed mid-run', async () => {
    const closing = new Qwen3OnnxEngine(config);
    await closing.loadModel('base_0.6b');
    const long = request({ sampling: { ...sampling, maxNewTokens: 4000 } });
    let heardAudio = () => {};
    const firstAudio = new Promise<void>((resolve) => (heardAudio = resolve));
    // Three requests on two workers: two run, one waits for a worker.
    const outcomes = [0, 1, 2].map(async () => {
      try {
        for await (const part of closing.generate(long, AbortSignal.timeout(30000)))
          if (part.type === 'audio-delta') heardAudio();
        return 'finished';
      } catch (error) {
        return error;
      }
    });
    await firstAudio;
    const closedAt = performance.now();
    await closing.close();
    assert.ok(performance.now() - closedAt < 5000, 'the workers stopped after their current run');
    for (const outcome of await Promise.all(outcomes)) {
      assert.ok(outcome instanceof EngineUnavailableError, `a 503, not ${String(outcome)}`);
      assert.match(outcome.message, /shutting down/);
    }
  });
});

describe('Qwen3 ONNX engine configuration', () => {
  it('says how to install a missing model', async () => {
    const engine = new Qwen3OnnxEngine(loadConfig({ MODEL_DIR: temporaryDirectory('empty-models-') }));
    await assert.rejects(engine.loadModel('base_0.6b'), (error: unknown) => {
      assert.ok(error instanceof ModelNotAvailableError);
      assert.match(error.message, /npm run cli -- models pull base_0\.6b/);
      assert.match(error.message, /npm run cli -- models synth base_0\.6b --out \S+/);
      assert.match(error.message, /MODEL_0_6B_BASE/);
      return true;
    });
    assert.deepEqual(
      (await engine.models()).map((model) => model.installed),
      [false, false],
    );
  });

  it('announces a synthetic model: a warning in the log, and in models() and syntheticModels()', async () => {
    const directory = await syntheticQwen3();
    const warnings: string[] = [];
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _encoding, done) {
          warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
          done();
        },
      }),
    );
    const engine = new Qwen3OnnxEngine(loadConfig({ MODEL_0_6B_BASE: directory, TTS_WORKERS: '1' }), logger);
    try {
      assert.equal((await engine.models())[0].synthetic, true, 'read from the manifest before loading');
      assert.deepEqual(engine.syntheticModels(), []);
      await engine.loadModel('base_0.6b');
      assert.deepEqual(engine.syntheticModels(), ['base_0.6b']);
      assert.ok(
        warnings.some((line) =>
          /^base_0\.6b is a synthetic model .*: it speaks noise, not speech\. .*models pull base_0\.6b/.test(
            line,
          ),
        ),
        warnings.join('\n'),
      );
    } finally {
      await engine.close();
    }
  });

  it('refuses a model whose weight file is truncated, naming the file and how to replace it', async () => {
    const directory = await syntheticQwen3();
    const manifest = JSON.parse(readFileSync(path.join(directory, 'manifest.json'), 'utf8'));
    const weights = Object.keys(manifest.files.sha256).find((file) =>
      file.endsWith('residual_embeddings.bin'),
    );
    assert.ok(weights, 'the synthetic model has the file the real one has');
    truncateSync(path.join(directory, weights), 64);
    const engine = new Qwen3OnnxEngine(loadConfig({ MODEL_0_6B_BASE: directory }));
    try {
      await assert.rejects(engine.loadModel('base_0.6b'), (error: unknown) => {
        assert.ok(error instanceof ModelNotAvailableError);
        assert.match(error.message, /residual_embeddings\.bin .* is damaged or incomplete/);
        assert.match(error.message, /models pull base_0\.6b` again/);
        return true;
      });
    } finally {
      await engine.close();
    }
  });

  it('refuses CUDA when its provider is not installed, saying how to get it', () => {
    assert.throws(() => chooseProvider('cuda:0'), /--onnxruntime-node-install=cuda12/);
  });

  const precision: [Config['TTS_DTYPE'], RegExp][] = [
    ['bfloat16', /no ONNX variant/],
    ['float16', /TTS_DTYPE=float32/],
  ];
  for (const [dtype, message] of precision) {
    it(`refuses TTS_DTYPE=${dtype} on the CPU`, () =>
      assert.throws(() => variantFor(dtype, chooseProvider('cpu')), message));
  }

  it('accepts the quantized variants (float32 I/O) on the CPU', () => {
    for (const dtype of ['int8', 'int4'] as const)
      assert.equal(variantFor(dtype, chooseProvider('cpu')), dtype);
  });

  it('says how to add a missing quantized variant', async () => {
    const directory = await syntheticQwen3({ dtype: 'float32' });
    const engine = new Qwen3OnnxEngine(loadConfig({ MODEL_0_6B_BASE: directory, TTS_DTYPE: 'int4' }));
    await assert.rejects(
      engine.loadModel('base_0.6b'),
      /no int4 variant.*quantize\.py --model-dir .* --variants int4/,
    );
  });

  it('refuses a model directory without the requested variant', async () => {
    const directory = await syntheticQwen3({ dtype: 'float16' });
    const engine = new Qwen3OnnxEngine(loadConfig({ MODEL_0_6B_BASE: directory }));
    await assert.rejects(engine.loadModel('base_0.6b'), /no float32 variant/);
    assert.ok(existsSync(path.join(directory, 'float16', 'talker.onnx')));
  });
});

describe('execution providers', () => {
  it('puts TensorRT before CUDA when asked, and CPU last', async () => {
    const { sessionOptions } = await import('../../../src/onnx/session-options.ts');
    const options = sessionOptions({ device: { kind: 'cuda', deviceId: 1, tensorRt: true }, threads: 4 });
    assert.deepEqual(options.executionProviders, [
      { name: 'tensorrt', deviceId: 1 },
      { name: 'cuda', deviceId: 1 },
      'cpu',
    ]);
    assert.equal(options.intraOpNumThreads, 4);
    assert.deepEqual(sessionOptions({ device: { kind: 'cpu' }, threads: 0 }).executionProviders, ['cpu']);
  });
});

describe('Qwen3 ONNX engine: cached voices and the weights that made them', () => {
  const reference = referenceAudio(2, 200);
  const ask = (engine: Qwen3OnnxEngine) =>
    engine.prepareVoice(
      { model: 'base_0.6b', reference, referenceText: '테스트', xVectorOnly: false },
      AbortSignal.timeout(20000),
    );
  async function withEngine<T>(config: Config, work: (engine: Qwen3OnnxEngine) => Promise<T>): Promise<T> {
    const engine = new Qwen3OnnxEngine(config);
    try {
      await engine.loadModel('base_0.6b');
      return await work(engine);
    } finally {
      await engine.close();
    }
  }

  it('computes voices again for a model replaced in place, and recomputes a stored voice of other dimensions', async () => {
    const directory = await syntheticQwen3();
    const config = loadConfig({
      MODEL_0_6B_BASE: directory,
      CACHE_DIR: temporaryDirectory('voice-cache-'),
      TTS_WORKERS: '1',
    });
    const before = await withEngine(config, ask);
    // `models synth` (or `models pull`) writes other weights into the same directory (another
    // end-of-speech position changes the talker; the same weights written again would keep the voice).
    await writeSyntheticQwen3Model(directory, {
      key: 'base_0.6b',
      dtype: 'float32',
      size: 'tiny',
      eosPosition: 100,
    });
    const after = await withEngine(config, ask);
    assert.notEqual(after.id, before.id, 'the old weights’ voice is not reused');

    // A stored voice whose speaker embedding has other dimensions is computed again, not used.
    const file = path.join(config.CACHE_DIR, 'voices', `${after.id}.json`);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { embedding: number[] };
    const width = stored.embedding.length;
    writeFileSync(file, JSON.stringify({ ...stored, embedding: stored.embedding.slice(0, 7) }));
    const again = await withEngine(config, ask);
    assert.equal((again.data as { speakerEmbedding: Float32Array }).speakerEmbedding.length, width);
    rmSync(config.CACHE_DIR, { recursive: true, force: true });
    rmSync(directory, { recursive: true, force: true });
  });
});
