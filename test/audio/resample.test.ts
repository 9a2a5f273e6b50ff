import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resample } from '../../src/audio/resample.ts';

function sine(frequency: number, sampleRate: number, seconds: number, amplitude = 0.5): Float32Array {
  const samples = new Float32Array(Math.round(sampleRate * seconds));
  for (let index = 0; index < samples.length; index += 1)
    samples[index] = amplitude * Math.sin((2 * Math.PI * frequency * index) / sampleRate);
  return samples;
}

/** Amplitude of one frequency, by correlation over the middle of the signal (edges excluded). */
function amplitudeAt(samples: Float32Array, sampleRate: number, frequency: number): number {
  let re = 0;
  let im = 0;
  const start = Math.floor(samples.length / 4);
  const end = Math.floor((samples.length * 3) / 4);
  for (let index = start; index < end; index += 1) {
    re += samples[index] * Math.cos((2 * Math.PI * frequency * index) / sampleRate);
    im += samples[index] * Math.sin((2 * Math.PI * frequency * index) / sampleRate);
  }
  return (2 * Math.hypot(re, im)) / (end - start);
}

describe('resample', () => {
  const rates: [number, number][] = [
    [44100, 24000],
    [48000, 24000],
    [16000, 24000],
    [22050, 24000],
    [24000, 16000],
  ];
  for (const [from, to] of rates) {
    it(`${from} Hz → ${to} Hz keeps a 1 kHz tone's frequency and amplitude`, () => {
      const output = resample(sine(1000, from, 0.5), from, to);
      assert.equal(output.length, Math.floor(0.5 * from * (to / from)));
      assert.ok(Math.abs(amplitudeAt(output, to, 1000) - 0.5) < 0.01);
      assert.ok(amplitudeAt(output, to, 1300) < 0.02);
    });
  }
  it('removes content above the new Nyquist frequency when downsampling', () => {
    const output = resample(sine(15000, 48000, 0.5), 48000, 24000);
    let peak = 0;
    for (const value of output.subarray(1000, output.length - 1000)) peak = Math.max(peak, Math.abs(value));
    assert.ok(peak < 0.02, `peak ${peak}`);
  });
  it('returns a copy at the same rate', () => {
    const input = sine(440, 24000, 0.1);
    const output = resample(input, 24000, 24000);
    assert.deepEqual(output, input);
    assert.notEqual(output, input);
  });
  it('resamples 60 s of 48 kHz audio in well under two seconds', () => {
    const startedAt = performance.now();
    resample(sine(440, 48000, 60), 48000, 24000);
    assert.ok(performance.now() - startedAt < 2000);
  });
});
