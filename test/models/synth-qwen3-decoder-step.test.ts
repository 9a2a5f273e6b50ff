import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { DecoderStepState } from '../../src/engines/qwen3-onnx/decoder-step-state.ts';
import { readQwen3Manifest, type Qwen3Manifest } from '../../src/models/qwen3-manifest.ts';
import { writeSyntheticQwen3Model } from '../../src/models/synth-qwen3.ts';
import { temporaryDirectory } from '../support/temporary-directory.ts';

const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxTypes };

const GROUPS = 16;
const FRAME = 1920;

/** The graph's inputs and outputs with their fixed dims (symbolic ones as -1). */
function declaredShapes(file: string): Map<string, number[]> {
  const graph = onnx.ModelProto.decode(readFileSync(file)).graph!;
  const shapes = new Map<string, number[]>();
  for (const value of [...graph.input!, ...graph.output!]) {
    const dims = value.type!.tensorType!.shape!.dim!.map((dim) => (dim.dimParam ? -1 : Number(dim.dimValue)));
    shapes.set(value.name!, dims);
  }
  return shapes;
}

function largestDifference(ours: Float32Array, reference: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < reference.length; index += 1)
    largest = Math.max(largest, Math.abs(ours[index] - reference[index]));
  return largest;
}

describe('the synthetic streamed codec decoder (codec_decoder_step)', () => {
  const directory = temporaryDirectory('synth-step-');
  let manifest: Qwen3Manifest;
  let oneShot: ort.InferenceSession;
  let step: ort.InferenceSession;
  // Longer than two attention windows (72), so that the state's keys, values and positions all matter.
  const frames = 170;
  const codes = BigInt64Array.from({ length: frames * GROUPS }, (_v, index) =>
    BigInt((index * 7919 + 13) % 2048),
  );
  let reference: Float32Array;

  before(async () => {
    await writeSyntheticQwen3Model(directory, { key: 'base_0.6b', dtype: 'float32', size: 'tiny' });
    manifest = await readQwen3Manifest(directory);
    oneShot = await ort.InferenceSession.create(path.join(directory, 'float32', 'codec_decoder.onnx'));
    step = await ort.InferenceSession.create(path.join(directory, 'float32', 'codec_decoder_step.onnx'));
    const output = await oneShot.run({
      codes: new ort.Tensor('int64', codes, [1, frames, GROUPS]),
      context_frames: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
    });
    reference = (output.audio.data as Float32Array).slice();
  });
  after(async () => {
    await oneShot?.release();
    await step?.release();
    rmSync(directory, { recursive: true, force: true });
  });

  /** The sequence through the step graph in pieces of these sizes, from a zero state. */
  async function streamed(pieces: number[]): Promise<Float32Array> {
    const state = new DecoderStepState(manifest.codecDecoderStep!);
    const audio = new Float32Array(frames * FRAME);
    for (const count of pieces) {
      const start = state.position;
      const output = await step.run({
        codes: new ort.Tensor('int64', codes.subarray(start * GROUPS, (start + count) * GROUPS), [
          1,
          count,
          GROUPS,
        ]),
        position: new ort.Tensor('int64', BigInt64Array.from([BigInt(start)]), []),
        ...state.feeds(),
      });
      assert.equal(output.audio.dims[1], count * FRAME, 'exactly the piece’s samples');
      audio.set(output.audio.data as Float32Array, start * FRAME);
      state.advance(output, count);
    }
    assert.equal(state.position, frames);
    return audio;
  }

  const split = (first: number[], size: number) => {
    const pieces = [...first];
    for (let done = first.reduce((sum, count) => sum + count, 0); done < frames; done += pieces.at(-1)!)
      pieces.push(Math.min(size, frames - done));
    return pieces;
  };

  it('lists its states in the manifest with the graph’s own names and shapes', () => {
    const entry = manifest.codecDecoderStep!;
    assert.equal(entry.graph, 'codec_decoder_step');
    assert.equal(entry.attentionWindow, manifest.audio.decoderAttentionWindow);
    const shapes = declaredShapes(path.join(directory, 'float32', 'codec_decoder_step.onnx'));
    assert.deepEqual(shapes.get('codes'), [1, -1, GROUPS]);
    assert.deepEqual(shapes.get('position'), []);
    for (const state of entry.states) {
      assert.deepEqual(shapes.get(`past.${state.name}`), state.shape, state.name);
      assert.deepEqual(shapes.get(`present.${state.name}`), state.shape, state.name);
    }
    // audio, codes, position and one input and one output per state: nothing unlisted.
    assert.equal(shapes.size, 3 + 2 * entry.states.length);
    // Tiny decoder: 2 layers, 2 heads of 4, the window's 71 earlier positions.
    const keys = entry.states.find((state) => state.name === 'attention.keys');
    assert.deepEqual(keys?.shape, [2, 2, 71, 4]);
    // pre-conv, 2 ConvNeXt, vocoder input, 4 transposed convs, 12 dilated convs, output conv, K and V.
    assert.equal(entry.states.length, 1 + 2 + 1 + 4 + 12 + 1 + 2);
  });

  for (const [label, pieces] of [
    ['pieces of 1 frame', split([], 1)],
    ['pieces of 4 frames', split([], 4)],
    ['pieces of 16 frames', split([], 16)],
    ['as the engine streams: 38 reference frames, then 4, then 16', split([38, 4], 16)],
  ] as const) {
    it(`decodes ${label} exactly as the one-shot codec_decoder`, async (context) => {
      const audio = await streamed([...pieces]);
      const difference = largestDifference(audio, reference);
      assert.ok(difference < 1e-5, `streamed audio differs from the one-shot decode by ${difference}`);
      context.diagnostic(`largest difference ${difference}`);
    });
  }

  it('is not silent (the comparison means something)', () => {
    const peak = reference.reduce((largest, sample) => Math.max(largest, Math.abs(sample)), 0);
    assert.ok(peak > 1e-3, `peak ${peak}`);
  });

  it('can be left out, as in older exports', async () => {
    const older = temporaryDirectory('synth-no-step-');
    try {
      await writeSyntheticQwen3Model(older, {
        key: 'base_0.6b',
        dtype: 'float32',
        size: 'tiny',
        decoderStep: false,
      });
      assert.equal((await readQwen3Manifest(older)).codecDecoderStep, undefined);
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
  });
});
