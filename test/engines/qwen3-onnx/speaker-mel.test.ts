import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fft, hertzToMel, melToHertz, periodicHann, slaneyMelFilterbank } from '../../../src/audio/fft.ts';
import { speakerMel } from '../../../src/engines/qwen3-onnx/speaker-mel.ts';

describe('FFT', () => {
  it('matches a direct DFT', () => {
    const size = 16;
    const input = Array.from(
      { length: size },
      (_value, index) => Math.sin(index) + 0.5 * Math.cos(3 * index),
    );
    const real = Float64Array.from(input);
    const imaginary = new Float64Array(size);
    new Fft(size).transform(real, imaginary);
    for (let bin = 0; bin < size; bin += 1) {
      let re = 0;
      let im = 0;
      input.forEach((value, index) => {
        re += value * Math.cos((-2 * Math.PI * bin * index) / size);
        im += value * Math.sin((-2 * Math.PI * bin * index) / size);
      });
      assert.ok(Math.abs(real[bin] - re) < 1e-9 && Math.abs(imaginary[bin] - im) < 1e-9, `bin ${bin}`);
    }
  });
  it('refuses sizes that are not powers of two', () => assert.throws(() => new Fft(400), /power of two/));
});

describe('Slaney mel scale and filterbank', () => {
  const scale: [number, number][] = [
    [0, 0],
    [200, 3],
    [1000, 15],
    [6400, 42],
  ];
  for (const [hertz, mel] of scale) {
    it(`${hertz} Hz is ${mel} mel and back`, () => {
      assert.ok(Math.abs(hertzToMel(hertz) - mel) < 1e-9);
      assert.ok(Math.abs(melToHertz(mel) - hertz) < 1e-6);
    });
  }
  it('has area-normalised triangles (2 / bandwidth at the peak ramp)', () => {
    const bank = slaneyMelFilterbank(24000, 1024, 128, 0, 12000);
    assert.equal(bank.length, 128);
    assert.equal(bank[0].length, 513);
    for (const filter of bank) for (const weight of filter) assert.ok(weight >= 0);
    const peak = Math.max(...bank[100]);
    const edges = [melToHertz((hertzToMel(12000) * 100) / 129), melToHertz((hertzToMel(12000) * 102) / 129)];
    assert.ok(peak <= 2 / (edges[1] - edges[0]) + 1e-12);
  });
  it('has a periodic Hann window', () => {
    const window = periodicHann(8);
    assert.equal(window[0], 0);
    assert.ok(Math.abs(window[4] - 1) < 1e-12);
  });
});

describe('speaker mel', () => {
  it('has floor(N / 256) frames of 128 mels', () => {
    for (const length of [1000, 24000, 24100]) {
      const mel = speakerMel(new Float32Array(length).fill(0.1));
      assert.equal(mel.frames, Math.floor(length / 256));
      assert.equal(mel.data.length, mel.frames * 128);
    }
  });
  it('puts a tone’s energy in the mel band of its frequency', () => {
    const samples = Float32Array.from({ length: 24000 }, (_value, index) =>
      Math.sin((2 * Math.PI * 1000 * index) / 24000),
    );
    const mel = speakerMel(samples);
    const frame = Array.from(mel.data.subarray(40 * 128, 41 * 128));
    const loudest = frame.indexOf(Math.max(...frame));
    const centers = Array.from({ length: 128 }, (_value, index) =>
      melToHertz((hertzToMel(12000) * (index + 1)) / 129),
    );
    assert.ok(
      Math.abs(centers[loudest] - 1000) < 100,
      `band ${loudest} centred at ${centers[loudest].toFixed(0)} Hz`,
    );
  });
  it('floors silence at ln(1e-5)-ish and needs more than 384 samples', () => {
    const mel = speakerMel(new Float32Array(2048));
    assert.ok(mel.data.every((value) => value < -5));
    assert.throws(() => speakerMel(new Float32Array(300)), /more than 384 samples/);
  });
  it('computes 10 s in well under half a second', () => {
    const samples = Float32Array.from({ length: 240000 }, (_value, index) => Math.sin(index / 7));
    const startedAt = performance.now();
    speakerMel(samples);
    assert.ok(performance.now() - startedAt < 500);
  });
});
