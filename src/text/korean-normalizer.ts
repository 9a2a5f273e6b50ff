/**
 * Rewrites digits, dates, times, money, units, symbols and Latin acronyms in Korean text into
 * Hangul, the way a Korean speaker reads them aloud, so that no digit reaches the TTS model.
 *
 * Choices (documented so that they stay consistent):
 * - A space separates a number from its counter or unit: 세 개, 백 명, 삼 월, 이천이십오 년.
 *   6월/10월 are single words: 유월, 시월.
 * - Dates 2025-03-01, 2025/03/01, 2025.3.1 and 2025. 3. 1. read as 이천이십오 년 삼 월 일 일.
 * - Times H:MM(:SS) read hours in native Korean and minutes/seconds in Sino-Korean (열 시 삼십 분);
 *   :00 minutes are dropped (열 시). A 24-hour time without 오전/오후 (14:00) reads as 오후 두 시,
 *   as people say it; 0:00 reads 영 시. "14시" written out reads 열네 시 (it is a native counter).
 * - Phone numbers read digit by digit, 0 as 공, groups separated by spaces (공일공 일이삼사 오육칠팔).
 * - A:B that is not a time reads as a ratio or score (삼 대 일); A/B as a fraction (이 분의 일).
 * - Negative numbers read 마이너스; negative temperatures (-5°C) read 영하.
 * - See korean-counters.ts for native versus Sino-Korean counters and the 번/대/분 rules.
 */
import { readLatinInKorean } from './acronyms.ts';
import { KOREAN_AMOUNT_SOURCE, readKoreanAmount } from './korean-amount.ts';
import {
  BEON_LABEL_NOUNS,
  IRREGULAR_MONTHS,
  KOREAN_CURRENCY_READINGS,
  KOREAN_UNIT_READINGS,
  NATIVE_COUNTERS,
  SINO_COUNTERS,
  SPEED_UNITS,
} from './korean-counters.ts';
import {
  hasNativeKoreanReading,
  nativeKoreanAttributive,
  readDigitsPhone,
  sinoKoreanNumber,
} from './korean-numbers.ts';

function escapeForRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function alternation(words: Iterable<string>): string {
  return [...new Set(words)]
    .sort((left, right) => right.length - left.length)
    .map(escapeForRegex)
    .join('|');
}

const NATIVE_COUNTER_SET = new Set(NATIVE_COUNTERS);
const COUNTER_SOURCE = alternation([...NATIVE_COUNTERS, ...SINO_COUNTERS]);
const TIME_PREFIXES = '오전|오후|새벽|아침|낮|저녁|밤';
const AFTERNOON_PREFIXES = new Set(['오후', '저녁', '밤']);

const MOBILE_PHONE = /(?<![\d-])(0\d{1,2})-(\d{3,4})-(\d{4})(?![\d-])/g;
const MOBILE_PHONE_UNBROKEN = /(?<![\d-])(01[016789])(\d{3,4})(\d{4})(?![\d-])/g;
const SERVICE_PHONE = /(?<![\d-])(1[5-9]\d{2})-(\d{4})(?![\d-])/g;
const DATE_DASHED = /(?<![\d-/])(\d{4})([-/])(\d{1,2})\2(\d{1,2})(?![\d-/])/g;
// The closing dot of "2025. 3. 1." belongs to the date only when Hangul or a bracket follows.
const DATE_DOTTED = /(?<![\d.])(\d{4})\.\s?(\d{1,2})\.\s?(\d{1,2})(?:\.(?=\s*[가-힣(]))?(?![\d]|\.\d)/g;
const COUNTED_RANGE = new RegExp(
  `(${KOREAN_AMOUNT_SOURCE})\\s?(${COUNTER_SOURCE})?\\s?[~〜～]\\s?(${KOREAN_AMOUNT_SOURCE})\\s?(${COUNTER_SOURCE})`,
  'g',
);
const RANGE = /(?<=\d[가-힣]{0,2}|%)\s?[~〜～]\s?(?=[\d₩$€£¥])/g;
const TIME = new RegExp(
  `(?:(${TIME_PREFIXES})\\s?)?(?<![\\d:])(\\d{1,2}):(\\d{2})(?::(\\d{2}))?(?![\\d:])`,
  'g',
);
const RATIO = /(?<![\d:])(\d+)\s?:\s?(\d+)(?![\d:])/g;
const FRACTION = /(?<![\d/])(\d+)\/(\d+)(?![\d/])/g;
const CURRENCY = new RegExp(
  `(${alternation(Object.keys(KOREAN_CURRENCY_READINGS))})\\s?(${KOREAN_AMOUNT_SOURCE})(?:\\s?(원|달러|유로|엔))?`,
  'g',
);
const SIGN = '(?:(?<![\\p{L}\\p{N}])([-−]))?';
const UNIT = new RegExp(
  `${SIGN}(${KOREAN_AMOUNT_SOURCE})\\s?(${alternation(Object.keys(KOREAN_UNIT_READINGS))})(?![A-Za-z])`,
  'gu',
);
const PREFIXED_ORDINAL = new RegExp(`(?<![가-힣])제\\s?(\\d+)(?:\\s?(${COUNTER_SOURCE}))?`, 'g');
const LATIN_ORDINAL = /(?<![\dA-Za-z])(\d+)(?:st|nd|rd|th)(?![A-Za-z])/g;
const COUNTED = new RegExp(`${SIGN}(${KOREAN_AMOUNT_SOURCE})(?:(\\s?)(${COUNTER_SOURCE}))?`, 'gu');
const SYMBOLS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\s?&\s?/g, ' 앤 '],
  [/\s?[×]\s?/g, ' 곱하기 '],
  [/\s?÷\s?/g, ' 나누기 '],
  [/±/g, '플러스마이너스 '],
];
const PLUS_BETWEEN_NUMBERS = /(?<=\d)\s?\+\s?(?=\d)/g;
const WORD_BEFORE = /([가-힣]+)\s*$/;
const WORD_AFTER = /^\s*([가-힣]+)/;
const SPACES = /[ \t]{2,}/g;

/** 3 → 삼 월, 6 → 유월, 10 → 시월. */
export function readKoreanMonth(month: number): string {
  return IRREGULAR_MONTHS[month] ?? `${sinoKoreanNumber(month)} 월`;
}

function readDate(yearText: string, monthText: string, dayText: string): string | undefined {
  const month = Number(monthText);
  const day = Number(dayText);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return `${sinoKoreanNumber(yearText)} 년 ${readKoreanMonth(month)} ${sinoKoreanNumber(day)} 일`;
}

function readHour(hour: number): string {
  return hour === 0 ? '영 시' : `${nativeKoreanAttributive(hour)} 시`;
}

function readTime(
  prefix: string | undefined,
  hour: number,
  minute: number,
  second: number | undefined,
): string {
  let words: string;
  if (prefix !== undefined) {
    const hourOfDay = hour > 12 && AFTERNOON_PREFIXES.has(prefix) ? hour - 12 : hour;
    words = `${prefix} ${readHour(hourOfDay)}`;
  } else if (hour > 12 && hour < 24) {
    words = `오후 ${readHour(hour - 12)}`;
  } else {
    words = readHour(hour % 24);
  }
  if (minute > 0) words += ` ${sinoKoreanNumber(minute)} 분`;
  if (second !== undefined && second > 0) words += ` ${sinoKoreanNumber(second)} 초`;
  return words;
}

/** Whether "N번" next to these words is a number label (삼 번 출구) rather than a count (세 번). */
function isBeonLabel(before: string, after: string): boolean {
  const previous = WORD_BEFORE.exec(before)?.[1];
  const next = WORD_AFTER.exec(after)?.[1];
  return BEON_LABEL_NOUNS.some((noun) => previous?.startsWith(noun) || next?.startsWith(noun));
}

function readCounted(amountText: string, counter: string, before: string, after: string): string {
  const amount = readKoreanAmount(amountText);
  const value = amount.wholeNumber;
  if (counter === '월' && value !== undefined && value >= 1 && value <= 12) return readKoreanMonth(value);
  const native =
    value !== undefined &&
    hasNativeKoreanReading(value) &&
    NATIVE_COUNTER_SET.has(counter) &&
    !(counter === '대' && value % 10 === 0) &&
    !(counter === '번' && isBeonLabel(before, after));
  if (!native) return `${amount.words} ${counter}`;
  if (counter === '번째' && value === 1) return '첫 번째';
  return `${nativeKoreanAttributive(value)} ${counter}`;
}

function withSign(sign: string | undefined, words: string): string {
  return sign ? `마이너스 ${words}` : words;
}

/** Korean text normalization; see the module comment for the rules. */
export function normalizeKorean(text: string): string {
  let result = text;
  result = result.replace(MOBILE_PHONE, (_match, ...groups: string[]) => readPhoneGroups(groups.slice(0, 3)));
  result = result.replace(MOBILE_PHONE_UNBROKEN, (_match, ...groups: string[]) =>
    readPhoneGroups(groups.slice(0, 3)),
  );
  result = result.replace(SERVICE_PHONE, (_match, ...groups: string[]) =>
    readPhoneGroups(groups.slice(0, 2)),
  );
  result = result.replace(
    DATE_DASHED,
    (match, year: string, _separator: string, month: string, day: string) => {
      return readDate(year, month, day) ?? match;
    },
  );
  result = result.replace(DATE_DOTTED, (match, year: string, month: string, day: string) => {
    return readDate(year, month, day) ?? match;
  });
  // 3~4개 → 세 개에서 네 개: both ends take the counter, so both get the right number system.
  result = result.replace(
    COUNTED_RANGE,
    (match, low: string, lowCounter: string | undefined, high: string, counter: string, offset: number) => {
      if (lowCounter !== undefined && lowCounter !== counter) return match;
      const before = result.slice(Math.max(0, offset - 16), offset);
      const after = result.slice(offset + match.length, offset + match.length + 16);
      return `${readCounted(low, counter, before, after)}에서 ${readCounted(high, counter, before, after)}`;
    },
  );
  result = result.replace(RANGE, '에서 ');
  result = result.replace(
    TIME,
    (
      match,
      prefix: string | undefined,
      hourText: string,
      minuteText: string,
      secondText: string | undefined,
    ) => {
      const hour = Number(hourText);
      const minute = Number(minuteText);
      const second = secondText === undefined ? undefined : Number(secondText);
      if (hour > 24 || minute > 59 || (second !== undefined && second > 59)) return match;
      return readTime(prefix, hour, minute, second);
    },
  );
  result = result.replace(RATIO, (_match, left: string, right: string) => {
    return `${sinoKoreanNumber(left)} 대 ${sinoKoreanNumber(right)}`;
  });
  result = result.replace(FRACTION, (_match, numerator: string, denominator: string) => {
    return `${sinoKoreanNumber(denominator)} 분의 ${sinoKoreanNumber(numerator)}`;
  });
  result = result.replace(CURRENCY, (_match, sign: string, amount: string) => {
    return `${readKoreanAmount(amount).words} ${KOREAN_CURRENCY_READINGS[sign]}`;
  });
  result = result.replace(
    UNIT,
    (_match, sign: string | undefined, amount: string, unit: string, offset: number) => {
      const words = readKoreanAmount(amount).words;
      const reading = KOREAN_UNIT_READINGS[unit];
      if (SPEED_UNITS.has(unit)) {
        const alreadySaid = result.slice(Math.max(0, offset - 4), offset).includes('시속');
        return `${alreadySaid ? '' : '시속 '}${withSign(sign, words)} ${reading}`;
      }
      if (sign && reading === '도' && unit !== '°') return `영하 ${words} 도`;
      return `${withSign(sign, words)} ${reading}`;
    },
  );
  result = result.replace(PREFIXED_ORDINAL, (_match, number: string, counter: string | undefined) => {
    return `제${sinoKoreanNumber(number)}${counter ? ` ${counter}` : ''}`;
  });
  result = result.replace(LATIN_ORDINAL, (_match, number: string) => readCounted(number, '번째', '', ''));
  result = readLatinInKorean(result);
  result = result.replace(PLUS_BETWEEN_NUMBERS, ' 더하기 ');
  result = result.replace(
    COUNTED,
    (
      match,
      sign: string | undefined,
      amount: string,
      _space: string,
      counter: string | undefined,
      offset: number,
    ) => {
      if (counter === undefined) return withSign(sign, readKoreanAmount(amount).words);
      const before = result.slice(Math.max(0, offset - 16), offset);
      const after = result.slice(offset + match.length, offset + match.length + 16);
      return withSign(sign, readCounted(amount, counter, before, after));
    },
  );
  for (const [pattern, replacement] of SYMBOLS) result = result.replace(pattern, replacement);
  return result.replace(SPACES, ' ');
}

function readPhoneGroups(groups: string[]): string {
  return groups.map(readDigitsPhone).join(' ');
}
