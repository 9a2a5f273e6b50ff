import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hertzToMel, melToHertz } from '../../../src/audio/fft.ts';
import { audioWindows, whisperLogMel } from '../../../src/engines/musetalk-onnx/whisper-features.ts';

describe('Whisper log-mel features', () => {
  it('gives 80 × 3000 values; silence is the floor everywhere ((log10(1e-10) + 4) / 4 = −1.5)', () => {
    const features = whisperLogMel(new Float32Array(16000));
    assert.equal(features.length, 80 * 3000);
    assert.ok(features.every((value) => Math.abs(value + 1.5) < 1e-6));
  });

  it('puts a tone in the mel band of its frequency, in the frames where it sounds', () => {
    const tone = Float32Array.from(
      { length: 16000 },
      (_value, index) => 0.5 * Math.sin((2 * Math.PI * 1000 * index) / 16000),
    );
    const features = whisperLogMel(tone);
    const frame = 50; // 0.5 s
    const column = Array.from({ length: 80 }, (_value, mel) => features[mel * 3000 + frame]);
    const loudest = column.indexOf(Math.max(...column));
    const center = melToHertz((hertzToMel(8000) * (loudest + 1)) / 81);
    assert.ok(Math.abs(center - 1000) < 120, `band ${loudest} is centred at ${center.toFixed(0)} Hz`);
    // After the tone (frame 200 = 2 s) the dynamic-range clamp holds values at max − 8, scaled.
    const maximum = features.reduce((largest, value) => Math.max(largest, value), Number.NEGATIVE_INFINITY);
    assert.ok(Math.abs(features[loudest * 3000 + 200] - (maximum - 2)) < 1e-6);
  });

  it('computes 10 s of audio in under two seconds', () => {
    const speech = Float32Array.from(
      { length: 160000 },
      (_value, index) => Math.sin(index / 5) * Math.sin(index / 900),
    );
    const startedAt = performance.now();
    whisperLogMel(speech);
    assert.ok(performance.now() - startedAt < 2000);
  });
});

describe('per-frame audio windows', () => {
  it('takes Whisper frames 2i − 4 … 2i + 5 for video frame i, zero outside, row = time × 5 + state', () => {
    const states = 5;
    const feature = 2;
    const whisperFrames = 20;
    const hidden = Float32Array.from(
      { length: whisperFrames * states * feature },
      (_value, index) => Math.floor(index / (states * feature)) + 1,
    );
    const windows = audioWindows(hidden, whisperFrames, states, feature, 10);
    const rowOf = (frame: number, row: number) => windows[(frame * 50 + row) * feature];
    assert.equal(rowOf(0, 0), 0, 'frame 0 starts in the left padding');
    assert.equal(rowOf(0, 4 * 5), 1, 'time step 4 of frame 0 is whisper frame 0');
    assert.equal(rowOf(3, 0), 3, 'frame 3 starts at whisper frame 2');
    assert.equal(rowOf(3, 9 * 5 + 4), 12, 'the last row of frame 3 is whisper frame 11, state 4');
    assert.equal(rowOf(9, 9 * 5), 0, 'past the end is the right padding');
  });
});
