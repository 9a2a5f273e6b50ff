import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { englishCardinal, englishOrdinal, englishYear } from '../../src/text/english-numbers.ts';
import { normalizeEnglish } from '../../src/text/english-normalizer.ts';

type Case = readonly [input: string, expected: string];

const groups: Record<string, readonly Case[]> = {
  numbers: [
    ['0', 'zero'],
    ['7', 'seven'],
    ['13', 'thirteen'],
    ['42', 'forty-two'],
    ['100', 'one hundred'],
    ['101', 'one hundred one'],
    ['1,234', 'one thousand two hundred thirty-four'],
    ['1,000,000', 'one million'],
    ['3.5', 'three point five'],
    ['3.14', 'three point one four'],
    ['-7', 'minus seven'],
    ['I have 3 cats.', 'I have three cats.'],
    ['The answer is 42.', 'The answer is forty-two.'],
  ],
  years: [
    ['2025', 'twenty twenty-five'],
    ['In 2025, we grew.', 'In twenty twenty-five, we grew.'],
    ['1999', 'nineteen ninety-nine'],
    ['2005', 'two thousand five'],
    ['1905', 'nineteen oh five'],
    ['1900', 'nineteen hundred'],
    ['2,025', 'two thousand twenty-five'],
  ],
  'dates and times': [
    ['2025-03-01', 'March first, twenty twenty-five'],
    ['March 3', 'March third'],
    ['June 21st', 'June twenty-first'],
    ['10:30', 'ten thirty'],
    ['10:00', "ten o'clock"],
    ['10:05', 'ten oh five'],
    ['10:05 pm', 'ten oh five PM'],
    ['9:00 a.m.', 'nine AM'],
    ['10:30:15', 'ten thirty and fifteen seconds'],
  ],
  'money and percentages': [
    ['$20', 'twenty dollars'],
    ['$1', 'one dollar'],
    ['$3.50', 'three dollars and fifty cents'],
    ['$0.99', 'ninety-nine cents'],
    ['$2 million', 'two million dollars'],
    ['€10', 'ten euros'],
    ['£5', 'five pounds'],
    ['¥1000', 'one thousand yen'],
    ['₩15,000', 'fifteen thousand won'],
    ['15%', 'fifteen percent'],
    ['3.5%', 'three point five percent'],
  ],
  'ordinals, units, phone numbers, abbreviations': [
    ['1st', 'first'],
    ['2nd', 'second'],
    ['3rd', 'third'],
    ['22nd', 'twenty-second'],
    ['100th', 'one hundredth'],
    ['5 km', 'five kilometers'],
    ['1 km', 'one kilometer'],
    ['20°C', 'twenty degrees Celsius'],
    ['555-123-4567', 'five five five, one two three, four five six seven'],
    ['Dr. Smith', 'Doctor Smith'],
    ['Mr. Lee', 'Mister Lee'],
    ['fruit, e.g. apples', 'fruit, for example apples'],
    ['apples, etc. are fine', 'apples, et cetera are fine'],
    ['We sell apples, etc.', 'We sell apples, et cetera.'],
    ['No. 5 is here', 'number five is here'],
    ['the 1990s and the 80s', 'the nineteen nineties and the eighties'],
    ['R&D', 'R and D'],
    ['2+2=4', 'two plus two equals four'],
  ],
};

for (const [groupName, cases] of Object.entries(groups)) {
  describe(`normalizeEnglish: ${groupName}`, () => {
    for (const [input, expected] of cases) {
      test(`${input} → ${expected}`, () => assert.equal(normalizeEnglish(input), expected));
    }
  });
}

test('no digit survives English normalization of a mixed text', () => {
  const text = 'On 2025-03-01 at 10:30, 1,234 people paid $20 (15% off) for the 3rd time; call 555-123-4567.';
  assert.doesNotMatch(normalizeEnglish(text), /\d/);
});

test('English number helpers', () => {
  assert.equal(englishCardinal('1000000000000'), 'one trillion');
  assert.equal(englishOrdinal(12), 'twelfth');
  assert.equal(englishOrdinal(40), 'fortieth');
  assert.equal(englishYear(2010), 'twenty ten');
});
