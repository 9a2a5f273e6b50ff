import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  nativeKoreanAttributive,
  nativeKoreanCardinal,
  readDigitsPhone,
  sinoKoreanDecimal,
  sinoKoreanNumber,
} from '../../src/text/korean-numbers.ts';

const native: ReadonlyArray<readonly [number, string, string]> = [
  [1, '한', '하나'],
  [2, '두', '둘'],
  [3, '세', '셋'],
  [4, '네', '넷'],
  [5, '다섯', '다섯'],
  [10, '열', '열'],
  [11, '열한', '열하나'],
  [20, '스무', '스물'],
  [21, '스물한', '스물하나'],
  [32, '서른두', '서른둘'],
  [40, '마흔', '마흔'],
  [99, '아흔아홉', '아흔아홉'],
];

test('native Korean numbers: attributive and cardinal forms', () => {
  for (const [value, attributive, cardinal] of native) {
    assert.equal(nativeKoreanAttributive(value), attributive, String(value));
    assert.equal(nativeKoreanCardinal(value), cardinal, String(value));
  }
});

test('native Korean numbers outside 1–99 are refused with a clear error', () => {
  assert.throws(() => nativeKoreanAttributive(100), /1–99/);
  assert.throws(() => nativeKoreanAttributive(0), /1–99/);
});

test('Sino-Korean numbers, exact beyond the safe integer range', () => {
  assert.equal(sinoKoreanNumber(10n ** 16n), '일경');
  assert.equal(sinoKoreanNumber('9007199254740993'), '구천칠조 천구백구십이억 오천사백칠십사만 구백구십삼');
  assert.equal(sinoKoreanNumber(10n ** 17n), '십경');
  assert.equal(sinoKoreanDecimal('-0.25'), '마이너스 영 점 이오');
  assert.equal(readDigitsPhone('010'), '공일공');
});
