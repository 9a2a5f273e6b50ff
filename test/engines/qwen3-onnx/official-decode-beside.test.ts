import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeLikeOfficial, officialCut } from '../../../src/engines/qwen3-onnx/codec-decoding.ts';
import { CodecDecoderThread } from '../../../src/engines/qwen3-onnx/decoder-thread.ts';
import { StreamedDecoding } from '../../../src/engines/qwen3-onnx/streamed-decoding.ts';
import { readQwen3Manifest, type Qwen3Manifest } from '../../../src/models/qwen3-manifest.ts';
import { joinAudio } from '../../support/speech-stream.ts';
import { syntheticQwen3 } from '../../support/synthetic-models.ts';

const CPU = { device: { kind: 'cpu' as const }, threads: 1, niceness: 0, spinning: false };

/**
 * A request that is not streamed gets the official chunked decode; with codec_decoder_step it is made
 * beside generation (StreamedDecoding with `official`): each official chunk through a stream of its
 * own, the later ones started from the state after their 25 frames of left context. On a synthetic
 * model whose two decoder graphs share their weights, that must give decodeLikeOfficial's audio
 * sample for sample, whatever the lengths: within the first chunk, past it, and where the official cut
 * falls a sample inside the last reference frame. (official-parity checks it against the official
 * code's goldens.)
 */
describe('the official decode made beside generation', () => {
  let manifest: Qwen3Manifest;
  let decoder: CodecDecoderThread;
  const codesOf = (frames: number) =>
    Int32Array.from(
      { length: frames * manifest.dimensions.codeGroups },
      (_value, index) => (index * 7919 + 31) % manifest.dimensions.codebookSize,
    );

  before(async () => {
    const directory = await syntheticQwen3({ decoderStep: true });
    manifest = await readQwen3Manifest(directory);
    decoder = await CodecDecoderThread.start({
      manifest,
      variantDirectory: path.join(directory, 'float32'),
      provider: CPU,
      referenceDecoderStates: 2,
    });
  });
  after(() => decoder.close());

  const referenceFrames = 11;
  // 30: within the first chunk; 69: the cut falls a sample inside the last reference frame
  // (officialCut); 321: past the first 300-frame chunk, and the cut again.
  for (const totalFrames of [30, 69, 321]) {
    it(`gives the official audio for ${referenceFrames} reference frames and ${totalFrames} in all`, async () => {
      const samplesPerFrame = manifest.audio.samplesPerFrame;
      const expectedCut = totalFrames === 30 ? 0 : 1;
      assert.equal(
        referenceFrames * samplesPerFrame - officialCut(referenceFrames, totalFrames, samplesPerFrame),
        expectedCut,
      );
      const codes = codesOf(totalFrames);
      const decode = async (window: Int32Array, frames: number, context: number) =>
        (await decoder.decode(window, frames, context)).samples;
      const official: Float32Array[] = [];
      for await (const part of decodeLikeOfficial(manifest, decode, codes, totalFrames, referenceFrames))
        official.push(part);

      const decoding = new StreamedDecoding(manifest, decoder, codes, referenceFrames, {}, true);
      try {
        // Frames handed over as a worker makes them.
        for (let made = referenceFrames + 1; made <= totalFrames; made += 1) decoding.submit(made, false);
        const ours: Float32Array[] = [];
        for await (const part of decoding.officialAudio(totalFrames)) ours.push(part);
        // One part per official chunk, as decodeLikeOfficial gives them (not one per piece).
        assert.equal(ours.length, official.length);
        const expected = joinAudio(official);
        const actual = joinAudio(ours);
        assert.equal(actual.length, expected.length);
        let largest = 0;
        for (let index = 0; index < expected.length; index += 1)
          largest = Math.max(largest, Math.abs(actual[index] - expected[index]));
        assert.ok(largest < 1e-5, `differs by ${largest}`);
      } finally {
        decoding.close();
      }
    });
  }

  it('refuses officialAudio on a stream made for streaming, and a reference past the first chunk', async () => {
    const decoding = new StreamedDecoding(manifest, decoder, codesOf(4), 2, {});
    try {
      await assert.rejects(decoding.officialAudio(4).next(), /made with official/);
    } finally {
      decoding.close();
    }
    assert.throws(
      () => new StreamedDecoding(manifest, decoder, codesOf(301), 300, {}, true),
      /reference within its first chunk/,
    );
  });
});
