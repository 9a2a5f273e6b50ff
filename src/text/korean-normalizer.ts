import { ACRONYM_READINGS, WORD_READINGS } from './acronyms.ts';
import {
  COUNT_AFTER_BEON,
  CURRENCY_SYMBOLS,
  NATIVE_COUNTERS,
  SINO_COUNTERS,
  UNIT_WORDS,
} from './korean-counters.ts';
import { nativeKorean, readDigits, sinoDecimal, sinoKorean, spellLatin } from './korean-numbers.ts';

/**
 * Korean text normalization: numbers, dates, times, money, percentages, units, phone numbers,
 * ordinals and Latin acronyms become the words a Korean speaker says. Rules run from the most
 * specific pattern (a phone number, a date) to the most general (a bare number).
 */

/** A number as written: optional minus, digits with optional thousands separators, optional decimals. */
const NUMBER = String.raw`(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?`;

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const byLengthDescending = (words: string[]) => [...words].sort((a, b) => b.length - a.length).map(escape);

/** Reads a matched number (integer digits with commas, optional fraction) in Sino-Korean. */
function sino(integer: string, fraction?: string): string {
  const digits = integer.replace(/,/g, '');
  if (fraction !== undefined) return sinoDecimal(digits, fraction);
  // "007" or "0123" is a code, read digit by digit.
  if (digits.length > 1 && digits.startsWith('0')) return readDigits(digits);
  return sinoKorean(digits);
}

const MONTHS: Record<number, string> = { 6: '유월', 10: '시월' };
function month(value: number): string {
  return MONTHS[value] ?? `${sinoKorean(String(value))}월`;
}

function date(year: string, monthValue: string, day: string): string | undefined {
  const m = Number(monthValue);
  const d = Number(day);
  if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  return `${sinoKorean(year)} 년 ${month(m)} ${sinoKorean(String(d))} 일`;
}

function hour(value: number): string {
  return value === 0 ? '영 시' : `${nativeKorean(value, true) ?? sinoKorean(String(value))} 시`;
}

function time(hours: string, minutes: string, seconds?: string): string | undefined {
  const h = Number(hours);
  const m = Number(minutes);
  const s = seconds === undefined ? 0 : Number(seconds);
  if (h > 24 || m > 59 || s > 59) return undefined;
  const parts = [hour(h)];
  if (m > 0) parts.push(`${sinoKorean(String(m))} 분`);
  if (s > 0) parts.push(`${sinoKorean(String(s))} 초`);
  return parts.join(' ');
}

function ordinal(value: number, counter: '번째' | '째'): string {
  if (value === 1) return counter === '째' ? '첫째' : '첫 번째';
  const native = nativeKorean(value, counter === '번째');
  if (counter === '째') return `${native ?? sinoKorean(String(value))}째`;
  return `${native ?? sinoKorean(String(value))} 번째`;
}

function counted(integer: string, fraction: string | undefined, counter: string, after: string): string {
  const digits = integer.replace(/,/g, '');
  const value = Number(digits);
  if (counter === '월' && fraction === undefined && value >= 1 && value <= 12) return month(value);
  const native = NATIVE_COUNTERS.includes(counter) || (counter === '번' && COUNT_AFTER_BEON.test(after));
  if (native && fraction === undefined) {
    const reading = counter === '시' ? hour(value).replace(/ 시$/, '') : nativeKorean(value, true);
    if (reading) return `${reading} ${counter}`;
  }
  return `${sino(integer, fraction)} ${counter}`;
}

const COUNTERS = [...NATIVE_COUNTERS, ...SINO_COUNTERS, '번'];
const UNIT_PATTERN = byLengthDescending(UNIT_WORDS.map(([unit]) => unit)).join('|');
const UNIT_READINGS = new Map(UNIT_WORDS);

type Rule = [RegExp, (...groups: string[]) => string];

const RULES: Rule[] = [
  // Phone numbers, digit by digit: 010-1234-5678, 02-123-4567, 1588-1234.
  [
    /(?<![\d-])(0\d{1,2})-(\d{3,4})-(\d{4})(?![\d-])/g,
    (_m, a, b, c) => `${readDigits(a)} ${readDigits(b)} ${readDigits(c)}`,
  ],
  [/(?<![\d-])(1[5-9]\d{2})-(\d{4})(?![\d-])/g, (_m, a, b) => `${readDigits(a)} ${readDigits(b)}`],
  // Dates: 2025-03-01, 2025.3.1(.), 2025/03/01.
  [
    /(?<![\d.])(\d{4})([-./])(\d{1,2})\2(\d{1,2})(?:\.(?!\d))?(?![\d])/g,
    (match, y, _separator, m, d) => date(y, m, d) ?? match,
  ],
  // Times: 10:30, 9:05:30.
  [/(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])/g, (match, h, m, s) => time(h, m, s) ?? match],
  // Negative numbers: -5 → 마이너스 5 (only where the minus cannot be a hyphen between words).
  [/(^|[\s(~])[-−](?=\d)/g, (_m, before) => `${before}마이너스 `],
  // Money with a symbol before it: ₩15,000, $20, €3.5.
  [
    new RegExp(`([₩$€£¥])\\s?${NUMBER}`, 'g'),
    (_m, symbol, integer, fraction) => `${sino(integer, fraction)} ${CURRENCY_SYMBOLS[symbol]}`,
  ],
  // Percentages: 3.5% → 삼 점 오 퍼센트.
  [new RegExp(`${NUMBER}\\s?%`, 'g'), (_m, integer, fraction) => `${sino(integer, fraction)} 퍼센트`],
  // Speed: 100km/h → 시속 백 킬로미터.
  [
    new RegExp(`${NUMBER}\\s?km/h(?![A-Za-z])`, 'g'),
    (_m, integer, fraction) => `시속 ${sino(integer, fraction)} 킬로미터`,
  ],
  // Units: 5km, 3.5kg, 25℃.
  [
    new RegExp(`${NUMBER}\\s?(${UNIT_PATTERN})(?![A-Za-z²])`, 'g'),
    (_m, integer, fraction, unit) => `${sino(integer, fraction)} ${UNIT_READINGS.get(unit)}`,
  ],
  // 제1 → 제일, 제2회 → 제이회.
  [/제\s?(\d+)/g, (_m, digits) => `제${sinoKorean(digits)}`],
  // Ordinals: 1번째 → 첫 번째, 2째 → 둘째, 1st → 첫 번째.
  [
    /(?<![\d.])(\d+)\s?(번째|째)/g,
    (_m, digits, counter) => ordinal(Number(digits), counter as '번째' | '째'),
  ],
  [/(?<![\d.])(\d+)(?:st|nd|rd|th)(?![A-Za-z])/g, (_m, digits) => ordinal(Number(digits), '번째')],
  // A number before a counter: 3개 → 세 개, 100명 → 백 명, 2025년 → 이천이십오 년, 6월 → 유월.
  [
    new RegExp(`(?<![\\d.,])${NUMBER}\\s?(${byLengthDescending(COUNTERS).join('|')})(?=(.{0,4}))`, 'gs'),
    (_m, integer, fraction, counter, after) => counted(integer, fraction, counter, after),
  ],
  // Any other number.
  [new RegExp(`(?<![\\d.,])${NUMBER}`, 'g'), (_m, integer, fraction) => sino(integer, fraction)],
  // Symbols people read aloud.
  [/\s?&\s?/g, () => ' 앤드 '],
  [/(?<=\S)\s?\+\s?(?=\S)/g, () => ' 플러스 '],
];

/** Latin words: acronyms, known words, then unknown capitalised acronyms spelled out. */
function readLatinWords(text: string, extraAcronyms: Record<string, string>): string {
  return text.replace(/[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z]+)*/g, (word) => {
    const acronym = extraAcronyms[word] ?? ACRONYM_READINGS[word];
    if (acronym) return acronym;
    const known = WORD_READINGS[word.toLowerCase()];
    if (known) return known;
    if (/^[A-Z]{1,6}$/.test(word)) return spellLatin(word);
    return word;
  });
}

export function normalizeKorean(text: string, options: { acronyms?: Record<string, string> } = {}): string {
  let result = text;
  for (const [pattern, replace] of RULES) {
    result = result.replace(pattern, replace as (substring: string, ...args: string[]) => string);
  }
  result = readLatinWords(result, options.acronyms ?? {});
  return result.replace(/[ \t]{2,}/g, ' ');
}
