import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CodecDecoderThread } from '../../../src/engines/qwen3-onnx/decoder-thread.ts';
import { readQwen3Manifest, type Qwen3Manifest } from '../../../src/models/qwen3-manifest.ts';
import { joinAudio } from '../../support/speech-stream.ts';
import { syntheticQwen3 } from '../../support/synthetic-models.ts';

const CPU = { device: { kind: 'cpu' as const }, threads: 1, niceness: 0, spinning: false };

function largestDifference(ours: Float32Array, reference: Float32Array): number {
  assert.equal(ours.length, reference.length);
  let largest = 0;
  for (let index = 0; index < reference.length; index += 1)
    largest = Math.max(largest, Math.abs(ours[index] - reference[index]));
  return largest;
}

/**
 * The codec decoder's own thread, on a synthetic model whose windowed and stepped decoder graphs share
 * their weights (so a stream's pieces equal one window decode): requests are answered in order while
 * the caller goes on, a closed stream's pieces are dropped, a failed run fails its request alone, and
 * close() waits for the run under way.
 */
describe('the codec decoder thread', () => {
  let directory: string;
  let manifest: Qwen3Manifest;
  let decoder: CodecDecoderThread;
  const start = () =>
    CodecDecoderThread.start({
      manifest,
      variantDirectory: path.join(directory, 'float32'),
      provider: CPU,
      referenceDecoderStates: 4,
    });
  /** `frames` frames of codes that the synthetic codebooks hold. */
  const codesOf = (frames: number, salt: number) =>
    Int32Array.from(
      { length: frames * manifest.dimensions.codeGroups },
      (_value, index) => (index * 7919 + salt * 104729) % manifest.dimensions.codebookSize,
    );

  before(async () => {
    directory = await syntheticQwen3({ decoderStep: true });
    manifest = await readQwen3Manifest(directory);
    decoder = await start();
  });
  after(() => decoder.close());

  it('decodes a stream’s pieces in order, given all at once, as one decode of the whole', async () => {
    // More reference frames than one priming run takes (8), so the state is built in two runs.
    const referenceFrames = 11;
    const frames = 12;
    const all = codesOf(referenceFrames + frames, 1);
    const groups = manifest.dimensions.codeGroups;
    const stream = decoder.openStream(all.subarray(0, referenceFrames * groups), referenceFrames);
    // Nothing is awaited before the last piece is handed over: the thread queues them in order.
    const pieces = [
      [0, 1],
      [1, 3],
      [4, 8],
    ].map(([from, count]) =>
      stream.decode(
        all.subarray((referenceFrames + from) * groups, (referenceFrames + from + count) * groups),
        count,
      ),
    );
    const decoded = await Promise.all(pieces);
    stream.close();
    assert.deepEqual(await stream.opened.then((opened) => opened.primed), referenceFrames);
    for (const piece of decoded) assert.ok(piece.ms > 0, 'the decoder reports its own time');
    const whole = await decoder.decode(all, referenceFrames + frames, referenceFrames);
    const streamed = joinAudio(decoded.map((piece) => piece.samples));
    assert.equal(streamed.length, frames * manifest.audio.samplesPerFrame);
    const difference = largestDifference(streamed, whole.samples);
    assert.ok(difference < 1e-5, `differs by ${difference}`);
    // The last reference frame's audio comes with the opening (the official cut may need a sample of it).
    const lastReferenceFrame = await decoder.decode(all, referenceFrames, referenceFrames - 1);
    const { lastFrameAudio } = await stream.opened;
    assert.ok(largestDifference(lastFrameAudio, lastReferenceFrame.samples) < 1e-5);

    // The voice's state after its reference is kept: a second stream decodes none of it again.
    const again = decoder.openStream(all.subarray(0, referenceFrames * groups), referenceFrames);
    const first = await again.decode(
      all.subarray(referenceFrames * groups, (referenceFrames + 1) * groups),
      1,
    );
    again.close();
    assert.equal((await again.opened).primed, 0);
    assert.deepEqual((await again.opened).lastFrameAudio, lastFrameAudio, 'kept with the state');
    assert.ok(largestDifference(first.samples, decoded[0].samples) < 1e-6);
  });

  it('keeps no state for frames opened with keep: false (an official chunk’s left context)', async () => {
    const context = codesOf(5, 7);
    for (let time = 0; time < 2; time += 1) {
      const stream = decoder.openStream(context, 5, { keep: false });
      assert.equal((await stream.opened).primed, 5, `open ${time + 1} decodes the frames again`);
      stream.close();
    }
  });

  it('drops the pieces of a closed stream and serves the next request', async () => {
    const stream = decoder.openStream(new Int32Array(0), 0);
    const pending = [1, 2, 3].map((salt) => stream.decode(codesOf(4, salt), 4));
    stream.close();
    for (const piece of pending) await assert.rejects(piece, /the stream was closed/);
    const next = await decoder.decode(codesOf(3, 9), 3, 0);
    assert.equal(next.samples.length, 3 * manifest.audio.samplesPerFrame);
  });

  it('fails a request whose run fails, with the reason, and goes on', async () => {
    const stream = decoder.openStream(new Int32Array(0), 0);
    // Three frames' worth of codes announced as five: the graph refuses the shape.
    await assert.rejects(stream.decode(codesOf(3, 4), 5), (error: Error) => error.message.length > 0);
    stream.close();
    const next = await decoder.decode(codesOf(2, 5), 2, 0);
    assert.equal(next.samples.length, 2 * manifest.audio.samplesPerFrame);
  });

  it('refuses to start without the decoder graphs, saying what is missing', async () => {
    await assert.rejects(
      CodecDecoderThread.start({
        manifest,
        variantDirectory: path.join(directory, 'no-such-variant'),
        provider: CPU,
        referenceDecoderStates: 0,
      }),
      /codec_decoder/,
    );
  });

  it('stops after the run under way, settling every request', async () => {
    const own = await start();
    const requests = [1, 2, 3].map((salt) => own.decode(codesOf(8, salt), 8, 0));
    const settled = Promise.allSettled(requests);
    await own.close();
    const outcomes = await settled;
    assert.equal(outcomes.length, 3);
    for (const outcome of outcomes)
      if (outcome.status === 'rejected') assert.match(String(outcome.reason), /stopped/);
    await assert.rejects(own.decode(codesOf(1, 1), 1, 0));
  });
});
