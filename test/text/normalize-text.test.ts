import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadLexiconFile, normalizeText, prepareSpeechText } from '../../src/text/index.ts';

const english: [string, string][] = [
  ['I have 3 cats.', 'I have three cats.'],
  ['42', 'forty-two'],
  ['3.5', 'three point five'],
  ['$20', 'twenty dollars'],
  ['$20.50', 'twenty dollars and fifty cents'],
  ['$1', 'one dollar'],
  ['15%', 'fifteen percent'],
  ['1st', 'first'],
  ['2nd', 'second'],
  ['3rd', 'third'],
  ['21st', 'twenty-first'],
  ['100th', 'one hundredth'],
  ['10:30', 'ten thirty'],
  ['10:00', "ten o'clock"],
  ['7:05', 'seven oh five'],
  ['9am', 'nine a m'],
  ['at 10 p.m. today', 'at ten p m today'],
  ['in 2025', 'in twenty twenty-five'],
  ['since 1999', 'since nineteen ninety-nine'],
  ['in 2005', 'in two thousand five'],
  ['1,234,567', 'one million two hundred thirty-four thousand five hundred sixty-seven'],
  ['-5', 'minus five'],
  ['2025-03-01', 'March first, twenty twenty-five'],
  ['555-123-4567', 'five five five, one two three, four five six seven'],
  ['R&D', 'R and D'],
  ['I am here.', 'I am here.'],
];

describe('English normalization', () => {
  for (const [written, spoken] of english) {
    it(`${written} → ${spoken}`, () => assert.equal(normalizeText(written, { language: 'English' }), spoken));
  }
});

describe('normalizeText', () => {
  it('uses Korean rules for Auto when the text is mostly Hangul, English otherwise', () => {
    assert.equal(normalizeText('사과 3개', { language: 'Auto' }), '사과 세 개');
    assert.equal(normalizeText('3 apples', { language: 'Auto' }), 'three apples');
  });
  it('leaves Chinese and other languages unchanged', () => {
    assert.equal(normalizeText('我有3个苹果', { language: 'Chinese' }), '我有3个苹果');
    assert.equal(normalizeText('Ich habe 3 Äpfel', { language: 'German' }), 'Ich habe 3 Äpfel');
  });
  it('applies per-request pronunciations over the server lexicon, whole words only', () => {
    const options = {
      language: 'Korean',
      lexicon: { Qwen: '퀜', AI: '인공지능' },
      pronunciations: { Qwen: '큐웬' },
    };
    assert.equal(normalizeText('Qwen은 AI 모델', options), '큐웬은 인공지능 모델');
    assert.equal(normalizeText('Qwenlike', options), 'Qwenlike');
  });
  it('applies only the lexicon when normalize is false', () => {
    assert.equal(
      normalizeText('Qwen 3개', { language: 'Korean', normalize: false, pronunciations: { Qwen: '큐웬' } }),
      '큐웬 3개',
    );
  });
  it('composes decomposed Hangul (NFC) first', () => {
    assert.equal(normalizeText('사과 3개'.normalize('NFD'), { language: 'Korean' }), '사과 세 개');
  });
});

describe('prepareSpeechText', () => {
  it('normalizes, then splits', () => {
    const prepared = prepareSpeechText('2025년에 입사했습니다. 3년 차입니다.', { language: 'Korean' });
    assert.deepEqual(prepared.sentences, ['이천이십오 년에 입사했습니다.', '삼 년 차입니다.']);
    assert.equal(prepared.normalized, '이천이십오 년에 입사했습니다. 삼 년 차입니다.');
  });
  it('keeps one piece when split is false', () => {
    assert.equal(
      prepareSpeechText('하나. 둘. 셋.', { language: 'Korean', split: false }).sentences.length,
      1,
    );
  });
  it('normalizes and splits 5,000 characters in under 20 ms', () => {
    const paragraph =
      '안녕하세요. 2025년 3월 1일 오후 3시 30분에 3층 302호에서 면접이 있습니다. 지원자 150명 중 5명을 뽑습니다. 연봉은 4,500만 원이고 성과급은 12.5%입니다. AI 직무 경험이 3년 이상이면 좋습니다. 문의는 010-1234-5678로 주세요. ';
    const text = paragraph.repeat(Math.ceil(5000 / paragraph.length)).slice(0, 5000);
    prepareSpeechText(text, { language: 'Korean' }); // warm-up: compiles the regular expressions
    const timings: number[] = [];
    for (let run = 0; run < 7; run += 1) {
      const startedAt = performance.now();
      prepareSpeechText(text, { language: 'Korean' });
      timings.push(performance.now() - startedAt);
    }
    timings.sort((a, b) => a - b);
    assert.ok(timings[3] < 20, `median ${timings[3].toFixed(1)} ms`);
  });
});

describe('loadLexiconFile', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'lexicon-'));
  const write = (name: string, content: string) => {
    const file = path.join(directory, name);
    writeFileSync(file, content);
    return file;
  };
  it('reads a JSON object', async () => {
    assert.deepEqual(await loadLexiconFile(write('ok.json', '{"Qwen": "큐웬"}')), { Qwen: '큐웬' });
  });
  const bad: [string, string, RegExp][] = [
    ['not JSON', '{Qwen', /not valid JSON/],
    ['an array', '["Qwen"]', /must hold a JSON object/],
    ['a non-string reading', '{"Qwen": 1}', /must be a string/],
  ];
  for (const [name, content, message] of bad) {
    it(`names the file and the problem for ${name}`, async () => {
      await assert.rejects(loadLexiconFile(write(`${name}.json`, content)), message);
    });
  }
  it('names a missing file', async () => {
    await assert.rejects(loadLexiconFile(path.join(directory, 'missing.json')), /cannot be read/);
  });
});
