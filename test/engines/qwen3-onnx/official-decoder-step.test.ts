import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  DecoderStepState,
  type DecoderStepEntry,
} from '../../../src/engines/qwen3-onnx/decoder-step-state.ts';
import { qwen3ManifestSchema } from '../../../src/models/qwen3-manifest.ts';
import {
  OFFICIAL_FIXTURES,
  OFFICIAL_SHAPES,
  readGoldenFloats,
  readGoldens,
  type Goldens,
} from '../../support/official-qwen3.ts';

/**
 * codec_decoder_step, exported from the official-class checkpoints of test/fixtures/qwen3-official,
 * streams the official decoder's audio: the official codes through it in pieces equal what the
 * official code decoded at once (generate_voice_clone's audio; the long chunked-decode golden up to its
 * first 300-frame chunk). The graph alone, as the engine runs it: reference frames first, their audio
 * dropped.
 */
const GROUPS = 16;
const FRAME = 1920;
/** The golden voice-clone audio is 16-bit: rounding and the 16-bit step. */
const SIXTEEN_BIT_TOLERANCE = 2 / 32768;

function largestDifference(ours: Float32Array, official: Float32Array): number {
  let largest = 0;
  for (let index = 0; index < official.length; index += 1)
    largest = Math.max(largest, Math.abs(ours[index] - official[index]));
  return largest;
}

/** Piece sizes as the engine streams: the reference frames at once, then 4, then 16 at a time. */
function enginePieces(referenceFrames: number, frames: number): number[] {
  const pieces = referenceFrames > 0 ? [referenceFrames] : [];
  let done = referenceFrames;
  for (let size = 4; done < frames; size = 16) {
    pieces.push(Math.min(size, frames - done));
    done += pieces.at(-1)!;
  }
  return pieces;
}

for (const shape of OFFICIAL_SHAPES) {
  describe(`codec_decoder_step against the official decoder (${shape}-shaped checkpoint)`, () => {
    let goldens: Goldens;
    let entry: DecoderStepEntry;
    let session: ort.InferenceSession;

    before(async () => {
      goldens = await readGoldens(shape);
      const model = path.join(OFFICIAL_FIXTURES, shape, 'model');
      const manifest = JSON.parse(readFileSync(path.join(model, 'manifest.json'), 'utf8')) as {
        codecDecoderStep?: unknown;
      };
      entry = qwen3ManifestSchema.shape.codecDecoderStep.unwrap().parse(manifest.codecDecoderStep);
      session = await ort.InferenceSession.create(path.join(model, 'float32', `${entry.graph}.onnx`));
    });
    after(async () => session?.release());

    /** Audio of every frame of `codes` (rows of 16), streamed in `pieces` from a zero state. */
    async function stream(codes: number[][], pieces: number[]): Promise<Float32Array> {
      const state = new DecoderStepState(entry);
      const audio = new Float32Array(codes.length * FRAME);
      for (const count of pieces) {
        const start = state.position;
        const rows = codes.slice(start, start + count).flat();
        const output = await session.run({
          codes: new ort.Tensor(
            'int64',
            BigInt64Array.from(rows, (code) => BigInt(code)),
            [1, count, GROUPS],
          ),
          position: new ort.Tensor('int64', BigInt64Array.from([BigInt(start)]), []),
          ...state.feeds(),
        });
        audio.set(output.audio.data as Float32Array, start * FRAME);
        state.advance(output, count);
      }
      return audio;
    }

    it('streams the official voice-clone audio, reference frames first in ICL mode', async (context) => {
      for (const entryCase of goldens.cases) {
        const reference = entryCase.mode === 'icl' ? goldens.reference.codes : [];
        const codes = [...reference, ...entryCase.codes];
        const audio = await stream(codes, enginePieces(reference.length, codes.length));
        const official = await readGoldenFloats(shape, entryCase.audio.file);
        const ours = audio.subarray(reference.length * FRAME);
        assert.equal(ours.length, official.length, `${entryCase.name}: length`);
        const difference = largestDifference(ours, official);
        assert.ok(difference <= SIXTEEN_BIT_TOLERANCE, `${entryCase.name}: differs by ${difference}`);
        context.diagnostic(`${entryCase.name}: largest difference ${difference}`);
      }
    });

    it('streams the official decode of a long sequence, one frame at a time or in pieces', async (context) => {
      const chunked = goldens.chunkedDecode;
      if (!chunked) return context.skip('this shape has no chunked-decode golden');
      // Up to the end of the official first chunk (300 frames), where chunked_decode is one decode.
      const frames = 300;
      const codes = chunked.codes.slice(0, frames);
      for (const pieces of [
        enginePieces(chunked.referenceFrames, frames),
        Array.from({ length: frames }, () => 1),
      ]) {
        const audio = await stream(codes, pieces);
        for (const excerpt of chunked.excerpts) {
          const official = await readGoldenFloats(shape, excerpt.audio.file);
          const start = excerpt.startSample + chunked.cut;
          const length = Math.min(official.length, frames * FRAME - start);
          const difference = largestDifference(
            audio.subarray(start, start + length),
            official.subarray(0, length),
          );
          assert.ok(
            difference < 1e-5,
            `${pieces.length} pieces: samples from ${start} differ by ${difference}`,
          );
          context.diagnostic(
            `${pieces.length} pieces, samples from ${start}: largest difference ${difference}`,
          );
        }
      }
    });
  });
}
