import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../../src/config.ts';
import { runModelsSynthCommand } from '../../src/models/models-synth-command.ts';
import { listInstalledModels } from '../../src/models/installed-models.ts';
import { QWEN3_GRAPHS, readQwen3Manifest } from '../../src/models/qwen3-manifest.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const EXPECTED_IO: Record<string, { inputs: string[]; outputs: string[] }> = {
  text_embed: { inputs: ['input_ids'], outputs: ['embeds'] },
  talker: {
    // The tiny talker has 2 layers: one blocked cache pair per layer (contract 3).
    inputs: ['inputs_embeds', 'past_keys_0', 'past_values_0', 'past_keys_1', 'past_values_1', 'past_length'],
    outputs: ['logits', 'hidden', 'new_keys', 'new_values'],
  },
  code_predictor: {
    inputs: ['hidden', 'first_code', 'temperature', 'top_k', 'top_p', 'noise'],
    outputs: ['codes'],
  },
  speaker_encoder: { inputs: ['mel'], outputs: ['embedding'] },
  codec_encoder: { inputs: ['audio'], outputs: ['codes'] },
  codec_decoder: { inputs: ['codes', 'context_frames'], outputs: ['audio'] },
};

describe('models synth (Qwen3)', () => {
  for (const dtype of ['float32', 'float16', 'int8', 'int4'] as const) {
    it(`writes the real layout in ${dtype}, with the contract's tensor names`, async () => {
      const directory = path.join(temporaryDirectory('synth-'), 'base_0.6b');
      await runModelsSynthCommand('base_0.6b', { out: directory, dtype, size: 'tiny' });
      const manifest = await readQwen3Manifest(directory);
      assert.equal(manifest.modelKey, 'base_0.6b');
      assert.equal(manifest.source.synthetic, true);
      assert.deepEqual(Object.keys(manifest.variants), [dtype]);
      for (const file of ['vocab.json', 'merges.txt', 'tokenizer_config.json'])
        assert.ok(existsSync(path.join(directory, 'tokenizer', file)));
      for (const graph of QWEN3_GRAPHS) {
        const session = await ort.InferenceSession.create(path.join(directory, dtype, `${graph}.onnx`));
        assert.deepEqual([...session.inputNames], EXPECTED_IO[graph].inputs, graph);
        assert.deepEqual([...session.outputNames], EXPECTED_IO[graph].outputs, graph);
        await session.release();
      }
      const quantized = dtype === 'int8' || dtype === 'int4';
      for (const graph of ['talker', 'code_predictor'])
        assert.equal(
          readFileSync(path.join(directory, dtype, `${graph}.onnx`)).includes('MatMulNBits'),
          quantized,
          `${graph} has MatMulNBits nodes in a quantized variant only`,
        );
      if (quantized) assert.equal(manifest.variants[dtype].quantization?.bits, dtype === 'int8' ? 8 : 4);
      const table = readFileSync(path.join(directory, dtype, 'codec_embedding.bin'));
      assert.equal(table.length, 3072 * manifest.dimensions.hidden * (dtype === 'float16' ? 2 : 4));
      const listed = await listInstalledModels(loadConfig({ MODEL_0_6B_BASE: directory }));
      const entry = listed.find((model) => model.key === 'base_0.6b')!;
      assert.deepEqual(entry.variants, [dtype]);
    });
  }

  it('runs the float16 talker with float16 tensors', async () => {
    const directory = temporaryDirectory('synth16-');
    await runModelsSynthCommand('base_0.6b', { out: directory, dtype: 'float16', size: 'tiny' });
    const session = await ort.InferenceSession.create(path.join(directory, 'float16', 'talker.onnx'));
    const half = (count: number, dims: number[]) => new ort.Tensor('float16', new Uint16Array(count), dims);
    const output = await session.run({
      inputs_embeds: half(2 * 16, [1, 2, 16]),
      past_keys_0: half(2 * 8 * 4, [1, 2, 8, 4]),
      past_values_0: half(2 * 4 * 8, [1, 2, 4, 8]),
      past_keys_1: half(2 * 8 * 4, [1, 2, 8, 4]),
      past_values_1: half(2 * 4 * 8, [1, 2, 4, 8]),
      past_length: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
    });
    assert.equal(output.new_keys.type, 'float16');
    assert.deepEqual(output.new_keys.dims, [2, 2, 2, 8]);
    assert.equal(output.logits.type, 'float32');
  });

  it('refuses unknown keys and options', async () => {
    await assert.rejects(
      runModelsSynthCommand('base_9b', { out: '/tmp/x', dtype: 'float32', size: 'tiny' }),
      /unknown model key/,
    );
    await assert.rejects(
      runModelsSynthCommand('base_0.6b', { out: '/tmp/x', dtype: 'int2', size: 'tiny' }),
      /--dtype/,
    );
  });
});

describe('models with external weights', () => {
  it('load and run when large tensors live in .onnx.data files beside the graphs', async () => {
    const { Qwen3OnnxEngine } = await import('../../src/engines/qwen3-onnx/engine.ts');
    const { writeSyntheticQwen3Model } = await import('../../src/models/synth-qwen3.ts');
    const directory = temporaryDirectory('synth-external-');
    await writeSyntheticQwen3Model(directory, {
      key: 'base_0.6b',
      dtype: 'float32',
      size: 'tiny',
      externalData: true,
      eosPosition: 90,
    });
    assert.ok(
      existsSync(path.join(directory, 'float32', 'text_embed.onnx.data')),
      'the text table went to external data',
    );
    const engine = new Qwen3OnnxEngine(
      loadConfig({ MODEL_0_6B_BASE: directory, CACHE_DIR: path.join(directory, 'cache') }),
    );
    try {
      await engine.loadModel('base_0.6b');
      const samples = Float32Array.from({ length: 48000 }, (_value, index) => 0.3 * Math.sin(index / 11));
      const voice = await engine.prepareVoice(
        {
          model: 'base_0.6b',
          reference: { samples, sampleRate: 24000, hash: 'external-test' },
          referenceText: '',
          xVectorOnly: true,
        },
        AbortSignal.timeout(20000),
      );
      let frames = 0;
      for await (const part of engine.generate(
        {
          model: 'base_0.6b',
          text: '안녕하세요',
          language: 'Korean',
          voice,
          sampling: {
            seed: 1,
            temperature: 0.9,
            topK: 50,
            topP: 1,
            repetitionPenalty: 1.05,
            doSample: true,
            maxNewTokens: 200,
          },
          streaming: true,
        },
        AbortSignal.timeout(30000),
      )) {
        if (part.type === 'audio-end') frames = part.frames ?? 0;
      }
      assert.ok(frames > 2, `${frames} frames`);
    } finally {
      await engine.close();
    }
  });
});

describe('synthetic quantized variants in the engine', () => {
  it('speak with MatMulNBits weights, and the scripted first codes still hold', async () => {
    const { Qwen3OnnxEngine } = await import('../../src/engines/qwen3-onnx/engine.ts');
    const firstCodes: Record<string, number[]> = {};
    for (const dtype of ['float32', 'int4'] as const) {
      const directory = temporaryDirectory(`synth-${dtype}-`);
      await runModelsSynthCommand('base_0.6b', { out: directory, dtype, size: 'tiny' });
      const engine = new Qwen3OnnxEngine(
        loadConfig({
          MODEL_0_6B_BASE: directory,
          TTS_DTYPE: dtype,
          CACHE_DIR: path.join(directory, 'cache'),
          TTS_WORKERS: '1',
        }),
      );
      try {
        const signal = AbortSignal.timeout(60000);
        const samples = Float32Array.from({ length: 24000 * 2 }, (_, index) => 0.3 * Math.sin(index / 7));
        const voice = await engine.prepareVoice(
          {
            model: 'base_0.6b',
            reference: { samples, sampleRate: 24000, hash: 'synthetic tone' },
            referenceText: '안녕하세요.',
            xVectorOnly: false,
          },
          signal,
        );
        for await (const part of engine.generate(
          {
            model: 'base_0.6b',
            text: '반갑습니다.',
            language: 'Korean',
            voice,
            sampling: { seed: 1, maxNewTokens: 8, doSample: false, subtalker: { doSample: false } },
            streaming: false,
          },
          signal,
        ))
          if (part.type === 'audio-end' && part.codes)
            firstCodes[dtype] = [...part.codes].filter((_, index) => index % 16 === 0);
      } finally {
        await engine.close();
        rmSync(directory, { recursive: true, force: true });
      }
    }
    assert.ok(firstCodes.int4.length >= 4, `frames: ${firstCodes.int4.length}`);
    assert.deepEqual(firstCodes.int4, firstCodes.float32);
  });
});
