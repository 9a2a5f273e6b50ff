import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  DEFAULT_MAX_SENTENCE_CHARS,
  DEFAULT_MIN_SENTENCE_CHARS,
  splitSentences,
  type SplitSentencesOptions,
} from '../../src/text/split-sentences.ts';

type Case = readonly [input: string, expected: readonly string[], options?: SplitSentencesOptions];

const groups: Record<string, readonly Case[]> = {
  Korean: [
    ['안녕하세요. 반갑습니다.', ['안녕하세요.', '반갑습니다.']],
    ['정말요? 믿을 수 없어요!', ['정말요?', '믿을 수 없어요!']],
    ['오늘은 날씨가 좋네요.내일은 비가 온대요.', ['오늘은 날씨가 좋네요.', '내일은 비가 온대요.']],
    ['그건... 잘 모르겠어요.', ['그건... 잘 모르겠어요.']],
    ['그건… 잘 모르겠어요.', ['그건… 잘 모르겠어요.']],
    ['첫 줄입니다\n둘째 줄입니다', ['첫 줄입니다', '둘째 줄입니다']],
    ['첫 줄입니다\r\n\r\n둘째 줄입니다', ['첫 줄입니다', '둘째 줄입니다']],
    ['그가 "정말이야?" 하고 물었다. 나는 웃었다.', ['그가 "정말이야?" 하고 물었다.', '나는 웃었다.']],
    ['"정말이야?"라고 물었다. 나는 웃었다.', ['"정말이야?"라고 물었다.', '나는 웃었다.']],
    ['"정말이에요?" 그녀가 물었다.', ['"정말이에요?"', '그녀가 물었다.']],
    ['(네, 맞습니다.) 다음으로 넘어가죠.', ['(네, 맞습니다.)', '다음으로 넘어가죠.']],
    ['가격은 3.5달러입니다. 싸네요!', ['가격은 3.5달러입니다.', '싸네요!']],
    ['회의는 10:30에 시작합니다. 늦지 마세요.', ['회의는 10:30에 시작합니다.', '늦지 마세요.']],
    ['뭐라고?!그게 정말이에요?', ['뭐라고?!', '그게 정말이에요?']],
    ['1. 첫째 항목입니다\n2. 둘째 항목입니다', ['1. 첫째 항목입니다', '2. 둘째 항목입니다']],
    ['마지막 문장에는 마침표가 없다', ['마지막 문장에는 마침표가 없다']],
  ],
  English: [
    ['Hello there. How are you?', ['Hello there.', 'How are you?']],
    ['Wow! That is great.', ['Wow!', 'That is great.']],
    ['It costs 3.5 dollars. Cheap!', ['It costs 3.5 dollars.', 'Cheap!']],
    ['It costs 3.5 dollars. Ok.', ['It costs 3.5 dollars.', 'Ok.']],
    ['We meet at 10:30 today. Be on time.', ['We meet at 10:30 today.', 'Be on time.']],
    ['Dr. Smith met Mr. Jones and Mrs. Lee today.', ['Dr. Smith met Mr. Jones and Mrs. Lee today.']],
    ['Bring fruit, e.g. apples. Or bread, i.e. food.', ['Bring fruit, e.g. apples.', 'Or bread, i.e. food.']],
    ['Apples, pears, etc. are fine. Thanks a lot.', ['Apples, pears, etc. are fine.', 'Thanks a lot.']],
    ['I like apples, pears, etc. Bread is fine too.', ['I like apples, pears, etc.', 'Bread is fine too.']],
    ['It is red vs. blue tonight.', ['It is red vs. blue tonight.']],
    ['Take No. 5 or No. 6 today.', ['Take No. 5 or No. 6 today.']],
    ['She moved to the U.S. last year.', ['She moved to the U.S. last year.']],
    ['Visit example.com for details. Thank you.', ['Visit example.com for details.', 'Thank you.']],
    ['J. K. Rowling wrote many books.', ['J. K. Rowling wrote many books.']],
    ['I waited... Then he came back.', ['I waited...', 'Then he came back.']],
    ['I waited... and waited some more.', ['I waited... and waited some more.']],
    ['He said "Stop!" and left. Nobody moved.', ['He said "Stop!" and left.', 'Nobody moved.']],
    ['"Are you sure?" she asked quietly.', ['"Are you sure?" she asked quietly.']],
    ['"Are you sure?" She did not answer.', ['"Are you sure?"', 'She did not answer.']],
    ['1. Open the box\n2. Take the phone out', ['1. Open the box', '2. Take the phone out']],
  ],
  Chinese: [
    ['你好。今天天气很好！你呢？', ['你好。', '今天天气很好！', '你呢？']],
    ['今天天气很好！我们去公园吧？', ['今天天气很好！', '我们去公园吧？']],
    ['我们明天见。他说：“好的。”然后走了。', ['我们明天见。', '他说：“好的。”', '然后走了。']],
    ['这是第一句话。这是第二句话。', ['这是第一句话。', '这是第二句话。']],
    ['价格是3.5元。很便宜。', ['价格是3.5元。', '很便宜。']],
  ],
  Japanese: [
    ['こんにちは。元気ですか？', ['こんにちは。', '元気ですか？']],
    ['今日はいい天気ですね。明日は雨だそうです。', ['今日はいい天気ですね。', '明日は雨だそうです。']],
    ['「本当ですか？」と彼は言った。', ['「本当ですか？」', 'と彼は言った。']],
    ['ありがとう！また明日ね。', ['ありがとう！', 'また明日ね。']],
    ['はい。わかりました。', ['はい。', 'わかりました。']],
  ],
  // Fragments without an end mark of their own (or trailing off in an ellipsis) still merge.
  'short fragments merge into a neighbour': [
    ['It costs 3.5 dollars. Ok', ['It costs 3.5 dollars. Ok']],
    ['정말 감사합니다. 음', ['정말 감사합니다. 음']],
    ['Um... Then I left.', ['Um... Then I left.']],
    ['좋아요! 그럼 내일 다시 이야기해요.', ['좋아요!', '그럼 내일 다시 이야기해요.']],
    ['네.', ['네.']],
    ['...', ['...']],
    ['네. 알겠습니다.', ['네.', '알겠습니다.'], { minChars: 0 }],
    ['정말 감사합니다. 음', ['정말 감사합니다.', '음'], { minChars: 0 }],
  ],
  // Issue #12: an ellipsis after a final ending (-니다, -요, -다, -죠, -까 ...) closes the sentence.
  'an ellipsis after a final ending': [
    ['끝납니다… 그리고 점심입니다.', ['끝납니다…', '그리고 점심입니다.']],
    ['정말 좋았어요... 다음에 또 올게요.', ['정말 좋았어요...', '다음에 또 올게요.']],
    ['그렇죠...... 저도 그렇게 생각해요.', ['그렇죠......', '저도 그렇게 생각해요.']],
    ['회의가 끝났다…그리고 모두 떠났다.', ['회의가 끝났다…', '그리고 모두 떠났다.']],
    ['지금 출발합니까… 아직 이른데요.', ['지금 출발합니까…', '아직 이른데요.']],
    ['그럼 뭘 할까… 산책이나 갈까요?', ['그럼 뭘 할까…', '산책이나 갈까요?']],
    ['“다 끝났어요…” 그녀가 말했다.', ['“다 끝났어요…”', '그녀가 말했다.']],
  ],
  'an ellipsis inside a phrase continues it': [
    ['그게… 음, 어려운 질문이네요.', ['그게… 음, 어려운 질문이네요.']],
    ['비가 오니까… 집에 있을게요.', ['비가 오니까… 집에 있을게요.']],
    ['생각보다… 훨씬 어려웠어요.', ['생각보다… 훨씬 어려웠어요.']],
    ['아까… 뭐라고 하셨죠?', ['아까… 뭐라고 하셨죠?']],
    ['"다 끝났어요…"라고 말했다.', ['"다 끝났어요…"라고 말했다.']],
    ['네… 그렇습니다.', ['네… 그렇습니다.']],
  ],
  // Issue #12: a short answer that ends with its own punctuation is a sentence of its own.
  'short complete sentences stand alone': [
    ['네. 알겠습니다. 바로 할게요.', ['네.', '알겠습니다.', '바로 할게요.']],
    ['응! 그럼 내일 다시 이야기해요.', ['응!', '그럼 내일 다시 이야기해요.']],
    ['OK. Let us begin the meeting now.', ['OK.', 'Let us begin the meeting now.']],
    ['Let us begin the meeting now. OK.', ['Let us begin the meeting now.', 'OK.']],
    ['Hi. Yes. No. Maybe so.', ['Hi.', 'Yes.', 'No.', 'Maybe so.']],
    ['그 일은 제가 맡겠습니다. 네.', ['그 일은 제가 맡겠습니다.', '네.']],
    ['아니요. 처음 듣는 이야기예요.', ['아니요.', '처음 듣는 이야기예요.']],
    ['예. 준비됐습니다.', ['예.', '준비됐습니다.']],
    ['질문 있으세요? 네? 없으시군요.', ['질문 있으세요?', '네?', '없으시군요.']],
    ['"네." 그가 답했다.', ['"네."', '그가 답했다.']],
    ['Yes. I can start tomorrow.', ['Yes.', 'I can start tomorrow.']],
  ],
  // Issue #12: a line break always splits, however short the lines.
  'line breaks': [
    ['첫 줄\n둘째 줄', ['첫 줄', '둘째 줄']],
    ['네\r\n아니요', ['네', '아니요']],
    ['첫 줄\r\n\r\n\n둘째 줄', ['첫 줄', '둘째 줄']],
    ['\n  \n첫 줄\n \t \n둘째 줄\n\n', ['첫 줄', '둘째 줄']],
    ['첫 줄\u2028둘째 줄\r셋째 줄', ['첫 줄', '둘째 줄', '셋째 줄']],
  ],
  'empty and whitespace': [
    ['', []],
    ['   \n\n  ', []],
    ['  앞뒤 공백이 있는 문장입니다.  ', ['앞뒤 공백이 있는 문장입니다.']],
  ],
};

for (const [groupName, cases] of Object.entries(groups)) {
  describe(`splitSentences: ${groupName}`, () => {
    for (const [input, expected, options] of cases) {
      test(JSON.stringify(input), () => {
        assert.deepEqual(splitSentences(input, options), expected);
      });
    }
  });
}

describe('splitSentences: long sentences are cut', () => {
  test('the defaults are exported and sensible', () => {
    assert.equal(DEFAULT_MAX_SENTENCE_CHARS, 150);
    assert.equal(DEFAULT_MIN_SENTENCE_CHARS, 6);
  });

  const longCases: ReadonlyArray<
    readonly [name: string, input: string, maxChars: number, expected: readonly string[]]
  > = [
    [
      'at a comma first',
      '오늘은 아침 일찍 일어나서 운동을 했고, 점심에는 친구를 만나 밥을 먹었습니다.',
      30,
      ['오늘은 아침 일찍 일어나서 운동을 했고,', '점심에는 친구를 만나 밥을 먹었습니다.'],
    ],
    [
      'at a Korean connective ending',
      '오늘은 아침 일찍 일어나서 운동을 열심히 했지만 점심에는 친구를 만나 밥을 먹었습니다',
      30,
      ['오늘은 아침 일찍 일어나서 운동을 열심히 했지만', '점심에는 친구를 만나 밥을 먹었습니다'],
    ],
    [
      'at an English conjunction',
      'We walked along the river for a long time and then we sat down to eat some lunch',
      50,
      ['We walked along the river for a long time', 'and then we sat down to eat some lunch'],
    ],
    [
      'at the Chinese comma',
      '我们今天早上去了公园散步，下午又去了图书馆看书。',
      15,
      ['我们今天早上去了公园散步，', '下午又去了图书馆看书。'],
    ],
    [
      'at the Japanese comma',
      '今日は朝早く起きて公園を散歩して、午後は図書館で本を読みました。',
      20,
      ['今日は朝早く起きて公園を散歩して、', '午後は図書館で本を読みました。'],
    ],
  ];
  for (const [name, input, maxChars, expected] of longCases) {
    test(name, () => assert.deepEqual(splitSentences(input, { maxChars }), expected));
  }

  test('at whitespace, never in the middle of a word', () => {
    const words = Array.from({ length: 60 }, (_, index) => `word${index}`);
    const pieces = splitSentences(words.join(' '), { maxChars: 40 });
    assert.ok(pieces.length > 1);
    for (const piece of pieces) {
      assert.ok(piece.length <= 40, piece);
      for (const word of piece.split(' ')) assert.match(word, /^word\d+$/);
    }
    assert.equal(pieces.join(' '), words.join(' '));
  });

  test('a long text without any break is cut at the limit', () => {
    const text = '가'.repeat(400);
    const pieces = splitSentences(text, { maxChars: 150 });
    assert.deepEqual(
      pieces.map((piece) => piece.length),
      [150, 150, 100],
    );
  });

  test('every piece of a long mixed paragraph respects maxChars and nothing is lost', () => {
    const paragraph =
      '인공지능 기술은 빠르게 발전하고 있으며 많은 기업들이 이를 도입하고 있지만, 아직 해결해야 할 문제도 많습니다. '.repeat(
        6,
      );
    const pieces = splitSentences(paragraph, { maxChars: 40 });
    for (const piece of pieces) assert.ok(piece.length <= 40, piece);
    assert.equal(pieces.join('').replace(/\s/g, ''), paragraph.replace(/\s/g, ''));
  });
});
