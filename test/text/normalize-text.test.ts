import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { isMostlyHangul } from '../../src/text/is-mostly-hangul.ts';
import {
  normalizeText,
  prepareSpeechText,
  resolveNormalizationLanguage,
} from '../../src/text/normalize-text.ts';

describe('isMostlyHangul', () => {
  const cases: ReadonlyArray<readonly [string, boolean]> = [
    ['안녕하세요', true],
    ['AI 기술이 발전합니다', true],
    ['CEO와 CFO가 만났다', true],
    ['Hello world', false],
    ['Hello world, 세상', false],
    ['你好世界', false],
    ['こんにちは', false],
    ['12345', false],
    ['', false],
    ['오늘 meeting은 10:30입니다', true],
  ];
  for (const [text, expected] of cases) {
    test(JSON.stringify(text), () => assert.equal(isMostlyHangul(text), expected));
  }
});

describe('resolveNormalizationLanguage', () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['Korean', 'hello 3', 'korean'],
    ['korean', '3개', 'korean'],
    ['English', '사과 3개', 'english'],
    ['Auto', '사과 3개', 'korean'],
    ['Auto', 'I have 3 apples', 'english'],
    ['Auto', '价格是3元', 'none'],
    ['Auto', '3時に会いましょう', 'none'],
    ['Auto', 'У меня 3 яблока', 'none'],
    ['Auto', 'Ich möchte 3 Äpfel kaufen, für später', 'none'],
    ['Auto', 'The café opens at 10:30 every day of the week', 'english'],
    ['Auto', '12345', 'english'],
    ['Auto', 'Hello', 'english'],
    ['Auto', 'Il y a 3 pommes et une poire', 'none'],
    ['Auto', 'Tengo 3 manzanas y una pera', 'none'],
    ['Auto', 'Ho 3 mele che sono rosse', 'none'],
    ['Auto', 'Eu tenho 3 maçãs', 'none'],
    ['Auto', 'I have 3 apples and the pears', 'english'],
    ['Chinese', 'I have 3 apples', 'none'],
    ['Japanese', '3時', 'none'],
    ['German', 'Ich habe 3 Äpfel', 'none'],
  ];
  for (const [language, text, expected] of cases) {
    test(`${language}: ${text}`, () => assert.equal(resolveNormalizationLanguage(text, language), expected));
  }
});

describe('normalizeText', () => {
  test('Korean and Auto-with-Hangul read numbers in Korean', () => {
    assert.equal(normalizeText('사과 3개', { language: 'Korean' }), '사과 세 개');
    assert.equal(normalizeText('사과 3개', { language: 'Auto' }), '사과 세 개');
  });

  test('English and Auto-with-Latin read numbers in English', () => {
    assert.equal(normalizeText('I have 3 apples', { language: 'English' }), 'I have three apples');
    assert.equal(normalizeText('I have 3 apples', { language: 'Auto' }), 'I have three apples');
  });

  test('Chinese, Japanese and other languages pass through unchanged', () => {
    for (const language of [
      'Chinese',
      'Japanese',
      'German',
      'French',
      'Russian',
      'Portuguese',
      'Spanish',
      'Italian',
    ]) {
      assert.equal(normalizeText('价格是3.5元 10:30', { language }), '价格是3.5元 10:30', language);
    }
  });

  test('normalize: false keeps the text, but still applies pronunciations and the lexicon', () => {
    assert.equal(normalizeText('AI 3개', { language: 'Korean', normalize: false }), 'AI 3개');
    assert.equal(
      normalizeText('AI 3개', { language: 'Korean', normalize: false, pronunciations: { AI: '인공지능' } }),
      '인공지능 3개',
    );
  });

  test('pronunciations replace whole terms before numbers are read', () => {
    const pronunciations = { 'GPT-4': '지피티 포', Qwen3: '큐웬 쓰리' };
    assert.equal(
      normalizeText('GPT-4와 Qwen3를 비교했다', { language: 'Korean', pronunciations }),
      '지피티 포와 큐웬 쓰리를 비교했다',
    );
  });

  test('pronunciations match whole words only on their Latin edges', () => {
    const pronunciations = { AI: '인공지능' };
    assert.equal(
      normalizeText('AIR와 AI는', { language: 'Korean', pronunciations }),
      '에이아이알와 인공지능는',
    );
  });

  test('pronunciations: case-sensitive first, then case-insensitive', () => {
    const pronunciations = { Nova: '노바', NOVA: '엔오브이에이' };
    assert.equal(
      normalizeText('NOVA, Nova, nova', { language: 'Korean', pronunciations }),
      '엔오브이에이, 노바, 노바',
    );
  });

  test('Hangul terms match inside words followed by particles', () => {
    assert.equal(
      normalizeText('삼성전자는 좋다', { language: 'Korean', pronunciations: { 삼성전자: '삼성 전자' } }),
      '삼성 전자는 좋다',
    );
  });

  test('the server-wide lexicon applies too, and per-request pronunciations win', () => {
    const lexicon = { 'K-컬처': '케이 컬처', Qwen: '큐웬 렉시콘' };
    const pronunciations = { Qwen: '큐웬' };
    assert.equal(
      normalizeText('K-컬처와 Qwen', { language: 'Korean', lexicon, pronunciations }),
      '케이 컬처와 큐웬',
    );
    assert.equal(normalizeText('Qwen', { language: 'Korean', lexicon }), '큐웬 렉시콘');
  });

  test('the built-in acronym table can be overridden by the lexicon', () => {
    assert.equal(normalizeText('AI', { language: 'Korean' }), '에이아이');
    assert.equal(normalizeText('AI', { language: 'Korean', lexicon: { AI: '인공지능' } }), '인공지능');
  });

  test('web and e-mail addresses are left as written', () => {
    assert.equal(
      normalizeText('자세한 내용은 https://example.com/a1 또는 test2@example.com 참고, 3개', {
        language: 'Korean',
      }),
      '자세한 내용은 https://example.com/a1 또는 test2@example.com 참고, 세 개',
    );
    assert.equal(
      normalizeText('See www.example.com/2 for 3 tips', { language: 'English' }),
      'See www.example.com/2 for three tips',
    );
  });

  test('a long mixed Korean text keeps no digit', () => {
    const text =
      '2025년 3월 1일 오후 3:30, 서울 기온은 -2°C였다. 참가자 1,234명 중 35%가 AI에 관심을 보였고, ' +
      '평균 지출은 ₩15,000였다. 문의: 010-1234-5678. 3번 출구로 나와 100m 직진하세요.';
    assert.doesNotMatch(normalizeText(text, { language: 'Auto' }), /\d/);
  });
});

describe('prepareSpeechText', () => {
  test('normalizes, then splits', () => {
    const prepared = prepareSpeechText('사과 3개를 샀다. 가격은 3.5달러였다.', { language: 'Korean' });
    assert.equal(prepared.normalized, '사과 세 개를 샀다. 가격은 삼 점 오 달러였다.');
    assert.deepEqual(prepared.sentences, ['사과 세 개를 샀다.', '가격은 삼 점 오 달러였다.']);
  });

  test('split: false gives one piece', () => {
    const prepared = prepareSpeechText('First one. Second one.', { language: 'English', split: false });
    assert.deepEqual(prepared.sentences, ['First one. Second one.']);
  });

  test('split: null (auto) splits only when there is more than one sentence', () => {
    assert.deepEqual(
      prepareSpeechText('One sentence only.', { language: 'English', split: null }).sentences,
      ['One sentence only.'],
    );
    assert.deepEqual(
      prepareSpeechText('First one here. Second one here.', { language: 'English' }).sentences,
      ['First one here.', 'Second one here.'],
    );
  });

  test('maxChars and minChars are passed to the splitter', () => {
    const prepared = prepareSpeechText('아침에 운동을 했고, 점심에 친구를 만났다.', {
      language: 'Korean',
      maxChars: 15,
    });
    assert.deepEqual(prepared.sentences, ['아침에 운동을 했고,', '점심에 친구를 만났다.']);
  });

  test('empty text gives no sentences', () => {
    assert.deepEqual(prepareSpeechText('   ', { language: 'Auto' }), { normalized: '', sentences: [] });
    assert.deepEqual(prepareSpeechText('', { language: 'Auto', split: false }), {
      normalized: '',
      sentences: [],
    });
  });
});
