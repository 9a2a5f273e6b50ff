import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessReference } from '../../src/audio/reference-quality.ts';
import { decodeWav } from '../../src/audio/wav.ts';
import { ESPEAK_SKIP, speakKorean } from '../support/espeak.ts';

const RATE = 24000;

/** A voice-like tone: 180 Hz with a slow swell, so its level moves as speech does. */
function voiceLike(seconds: number, gain: number): Float32Array {
  return Float32Array.from(
    { length: RATE * seconds },
    (_value, index) =>
      gain * Math.sin((2 * Math.PI * 180 * index) / RATE) * (0.5 + 0.5 * Math.sin(index / 3000)),
  );
}

/** Deterministic white noise of the given peak level added to `samples`. */
function withNoise(samples: Float32Array, level: number): Float32Array {
  let state = 12345;
  return samples.map((value) => {
    state = (state * 16807) % 2147483647;
    return value + level * ((state / 2147483647) * 2 - 1);
  });
}

function silenceAfter(speech: Float32Array, totalSeconds: number): Float32Array {
  const padded = withNoise(new Float32Array(RATE * totalSeconds), 0.0005);
  padded.set(speech);
  return padded;
}

describe('assessReference', () => {
  const cases: [string, Float32Array, RegExp[]][] = [
    ['a clean recording', voiceLike(5, 0.3), []],
    ['a clipped recording', voiceLike(5, 3).map((value) => Math.max(-1, Math.min(1, value))), [/clips/]],
    ['a quiet recording', voiceLike(5, 0.005), [/quiet/]],
    ['a noisy recording', withNoise(voiceLike(5, 0.3), 0.15), [/noisy/]],
    ['one second of speech in six', silenceAfter(voiceLike(1, 0.3), 6), [/only (0\.9|1\.0) s of speech/]],
    ['three seconds of speech in twelve', silenceAfter(voiceLike(3, 0.3), 12), [/mostly silence/]],
  ];
  for (const [name, samples, expected] of cases) {
    it(`${expected.length === 0 ? 'has no advice for' : 'warns about'} ${name}`, () => {
      const { warnings } = assessReference(samples, RATE);
      assert.equal(warnings.length, expected.length, warnings.join(' | '));
      expected.forEach((pattern, index) => assert.match(warnings[index], pattern));
    });
  }

  it('has no advice for real speech, even with a quiet room behind it', { skip: ESPEAK_SKIP }, () => {
    const { samples, sampleRate } = decodeWav(
      speakKorean('안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.'),
    );
    assert.deepEqual(assessReference(samples, sampleRate).warnings, []);
    assert.deepEqual(assessReference(withNoise(samples, 0.002), sampleRate).warnings, []);
    assert.match(assessReference(withNoise(samples, 0.2), sampleRate).warnings.join(), /noisy/);
  });

  it('takes a few milliseconds for a minute of audio', () => {
    const minute = voiceLike(60, 0.3);
    const startedAt = performance.now();
    assessReference(minute, RATE);
    assert.ok(performance.now() - startedAt < 100);
  });
});
