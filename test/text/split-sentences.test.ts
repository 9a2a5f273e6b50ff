import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMostlyHangul, splitSentences } from '../../src/text/split-sentences.ts';

const cases: [string, string, string[]][] = [
  [
    'Korean sentences',
    '안녕하세요. AI 면접관입니다. 먼저 간단히 자기소개를 부탁드립니다.',
    ['안녕하세요.', 'AI 면접관입니다.', '먼저 간단히 자기소개를 부탁드립니다.'],
  ],
  [
    'questions and exclamations',
    '준비되셨나요? 좋습니다! 시작하겠습니다.',
    ['준비되셨나요?', '좋습니다!', '시작하겠습니다.'],
  ],
  ['a punctuation run', 'Really?! Yes, really.', ['Really?!', 'Yes, really.']],
  ['line breaks', '첫째 줄입니다\n둘째 줄입니다', ['첫째 줄입니다', '둘째 줄입니다']],
  [
    'Chinese full stops without spaces',
    '你好。我是面试官！请介绍一下自己。',
    ['你好。我是面试官！', '请介绍一下自己。'],
  ],
  [
    'Japanese',
    'こんにちは。面接を始めます。よろしくお願いします。',
    ['こんにちは。', '面接を始めます。', 'よろしくお願いします。'],
  ],
  ['a decimal', '평균은 3.5점입니다. 다음 질문입니다.', ['평균은 3.5점입니다.', '다음 질문입니다.']],
  ['a time', 'We start at 10:30. Be on time.', ['We start at 10:30.', 'Be on time.']],
  ['abbreviations', 'Dr. Kim met Mr. Lee. They talked.', ['Dr. Kim met Mr. Lee.', 'They talked.']],
  [
    'e.g. inside a sentence',
    'Use tools, e.g. Excel or Python. Then report.',
    ['Use tools, e.g. Excel or Python.', 'Then report.'],
  ],
  ['initials', 'J. K. Rowling wrote it. It sold well.', ['J. K. Rowling wrote it.', 'It sold well.']],
  [
    'an ellipsis inside a sentence',
    '그건... 잘 모르겠어요. 다음 질문입니다.',
    ['그건... 잘 모르겠어요.', '다음 질문입니다.'],
  ],
  ['a unicode ellipsis', '글쎄요… 생각해 볼게요. 감사합니다.', ['글쎄요… 생각해 볼게요.', '감사합니다.']],
  ['numbered lists', '1. 자기소개\n2. 지원 동기', ['1. 자기소개', '2. 지원 동기']],
  ['a closing quote stays', '"정말요?" 그가 물었다. 네.', ['"정말요?" 그가 물었다. 네.']],
  ['a domain name', 'Visit example.com today. Thanks a lot.', ['Visit example.com today.', 'Thanks a lot.']],
  ['short fragments merge', '네. 좋습니다. 그럼 시작하겠습니다.', ['네. 좋습니다.', '그럼 시작하겠습니다.']],
  ['no final punctuation', '마지막 문장에는 마침표가 없습니다', ['마지막 문장에는 마침표가 없습니다']],
  ['spaces only', '   ', []],
];

describe('splitSentences', () => {
  for (const [name, text, expected] of cases) {
    it(name, () => assert.deepEqual(splitSentences(text), expected));
  }

  it('splits an over-long sentence at commas and clause endings, never mid-word', () => {
    const long =
      '저는 대학교에서 컴퓨터공학을 전공했고 졸업 후에는 스타트업에서 백엔드 개발자로 삼 년 동안 일하면서 대규모 트래픽을 처리하는 시스템을 설계했으며, 그 과정에서 팀원들과 협업하는 방법을 배웠고, 이후에는 클라우드 인프라를 다루는 업무를 맡아 비용을 크게 줄였습니다.';
    const pieces = splitSentences(long, { maxChars: 60 });
    assert.ok(pieces.length >= 3);
    for (const piece of pieces) assert.ok(piece.length <= 60, piece);
    assert.equal(pieces.join(' ').replace(/\s+/g, ''), long.replace(/\s+/g, ''));
  });

  it('splits an English run-on sentence at clause words', () => {
    const pieces = splitSentences(
      'I worked on the platform team for three years and I led the migration to the cloud but the hardest part was convincing everyone that it was worth it',
      { maxChars: 60 },
    );
    assert.ok(pieces.length >= 3);
    for (const piece of pieces) assert.ok(piece.length <= 60);
  });

  it('cuts a single word longer than the limit rather than loop', () => {
    assert.deepEqual(splitSentences('가'.repeat(25), { maxChars: 10 }), [
      '가'.repeat(10),
      '가'.repeat(10),
      '가'.repeat(5),
    ]);
  });
});

describe('isMostlyHangul', () => {
  const table: [string, boolean][] = [
    ['안녕하세요', true],
    ['AI 면접관입니다', true],
    ['Hello world', false],
    ['Hello 세계 world', false],
    ['123', false],
  ];
  for (const [text, expected] of table)
    it(`${text} → ${expected}`, () => assert.equal(isMostlyHangul(text), expected));
});
