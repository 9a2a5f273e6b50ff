import assert from 'node:assert/strict';
import { test } from 'node:test';

import { prepareSpeechText } from '../../src/text/normalize-text.ts';

const PARAGRAPH =
  '2025년 3월 1일 오후 3:30, 서울 기온은 -2°C였고 참가자 1,234명 중 35.5%가 AI와 IT에 관심을 보였다. ' +
  '평균 지출은 ₩15,000, 최대 $200였으며 문의는 010-1234-5678로 받는다. 3번 출구로 나와 100m 직진하면 ' +
  'CEO 사무실이 있는데, 회의는 10:00~11:30에 열리고 커피 2잔과 책 3권이 준비된다. 그건... 잘 모르겠어요! ';

test('normalizing and splitting 5,000 characters of mixed Korean takes under 20 ms (median)', () => {
  const text = PARAGRAPH.repeat(Math.ceil(5000 / PARAGRAPH.length)).slice(0, 5000);
  assert.equal(text.length, 5000);
  const options = { language: 'Auto', pronunciations: { Qwen: '큐웬' }, lexicon: { 'K-컬처': '케이 컬처' } };
  prepareSpeechText(text, options); // warm-up: regex compilation and JIT
  const timings: number[] = [];
  for (let run = 0; run < 7; run += 1) {
    const start = performance.now();
    const prepared = prepareSpeechText(text, options);
    timings.push(performance.now() - start);
    assert.ok(prepared.sentences.length > 20);
  }
  timings.sort((left, right) => left - right);
  const median = timings[Math.floor(timings.length / 2)];
  assert.ok(median < 20, `median ${median.toFixed(2)} ms over ${timings.length} runs`);
});

test('cutting a huge text without any break stays linear', () => {
  const text = '你'.repeat(200_000);
  const start = performance.now();
  const prepared = prepareSpeechText(text, { language: 'Chinese' });
  const elapsed = performance.now() - start;
  assert.equal(prepared.sentences.length, Math.ceil(200_000 / 150));
  assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
});
