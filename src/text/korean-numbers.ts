/**
 * Korean number words. Two systems: Sino-Korean (일, 이, 삼 …, grouped by 만/억/조 every four
 * digits) for most numbers, and native Korean (하나, 둘 … 아흔아홉) for counting with certain counters.
 * Numbers arrive as digit strings so that values past Number.MAX_SAFE_INTEGER stay exact.
 */

const SINO_DIGITS = ['영', '일', '이', '삼', '사', '오', '육', '칠', '팔', '구'] as const;
const SINO_PLACES = ['', '십', '백', '천'] as const;
/** One word per group of four digits; past 경 we read digit by digit (nobody says those aloud). */
const SINO_GROUPS = ['', '만', '억', '조', '경'] as const;

/** Phone numbers, codes and the like: every digit on its own, 0 as 공 (as Koreans read 010). */
const PHONE_DIGITS = ['공', '일', '이', '삼', '사', '오', '육', '칠', '팔', '구'] as const;

const NATIVE_ONES_ATTRIBUTIVE = ['', '한', '두', '세', '네', '다섯', '여섯', '일곱', '여덟', '아홉'] as const;
const NATIVE_ONES_CARDINAL = ['', '하나', '둘', '셋', '넷', '다섯', '여섯', '일곱', '여덟', '아홉'] as const;
const NATIVE_TENS = ['', '열', '스물', '서른', '마흔', '쉰', '예순', '일흔', '여든', '아흔'] as const;

/** Reads a four-digit group (0–9999); 1 before 십/백/천 is elided (십, 백, 천, not 일십 …). */
function readSinoGroup(group: number): string {
  let words = '';
  for (let place = 3; place >= 0; place -= 1) {
    const digit = Math.floor(group / 10 ** place) % 10;
    if (digit === 0) continue;
    if (digit === 1 && place > 0) words += SINO_PLACES[place];
    else words += SINO_DIGITS[digit] + SINO_PLACES[place];
  }
  return words;
}

/**
 * Sino-Korean reading of a non-negative integer given as digits (commas allowed):
 * 10 → 십, 10000 → 만, 1,234,567 → 백이십삼만 사천오백육십칠, 100000000 → 일억.
 * Groups are separated by a space after 만/억/조, as Korean spacing rules write them.
 * 1 keeps its 일 before 억/조/경 (일억, 일조) but not before 만 (만, not 일만).
 */
export function sinoKoreanNumber(value: string | number | bigint): string {
  const digits = String(value)
    .replace(/,/g, '')
    .replace(/^0+(?=\d)/, '');
  if (!/^\d+$/.test(digits)) throw new TypeError(`not a non-negative integer: ${String(value)}`);
  if (/^0+$/.test(digits)) return SINO_DIGITS[0];
  if (digits.length > SINO_GROUPS.length * 4) return readDigitsSino(digits);
  const parts: string[] = [];
  for (let end = digits.length, groupIndex = 0; end > 0; end -= 4, groupIndex += 1) {
    const group = Number(digits.slice(Math.max(0, end - 4), end));
    if (group === 0) continue;
    const unit = SINO_GROUPS[groupIndex];
    const words = group === 1 && unit === '만' ? '' : readSinoGroup(group);
    parts.unshift(words + unit);
  }
  return parts.join(' ');
}

/** Every digit on its own in Sino-Korean (영 for 0): the digits after a decimal point. */
export function readDigitsSino(digits: string): string {
  let words = '';
  for (const character of digits) {
    const digit = character.charCodeAt(0) - 48;
    if (digit >= 0 && digit <= 9) words += SINO_DIGITS[digit];
  }
  return words;
}

/** Every digit on its own with 0 as 공, as Koreans read phone numbers: 010 → 공일공. */
export function readDigitsPhone(digits: string): string {
  let words = '';
  for (const character of digits) {
    const digit = character.charCodeAt(0) - 48;
    if (digit >= 0 && digit <= 9) words += PHONE_DIGITS[digit];
  }
  return words;
}

/**
 * Sino-Korean reading of a number as written: sign, thousands separators and decimals.
 * 3.14 → 삼 점 일사, -5 → 마이너스 오, 0.5 → 영 점 오.
 */
export function sinoKoreanDecimal(text: string): string {
  const match = /^([-−])?([\d,]+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new TypeError(`not a number: ${text}`);
  const [, sign, integer, fraction] = match;
  let words = sinoKoreanNumber(integer);
  if (fraction) words += ` 점 ${readDigitsSino(fraction)}`;
  return sign ? `마이너스 ${words}` : words;
}

/**
 * Native Korean number in the form used before a counter (관형사형): 1 → 한, 2 → 두, 3 → 세,
 * 4 → 네, 20 → 스무, 21 → 스물한, 99 → 아흔아홉. Only 1–99 exist in everyday speech.
 */
export function nativeKoreanAttributive(value: number): string {
  assertNativeRange(value);
  if (value === 20) return '스무';
  return NATIVE_TENS[Math.floor(value / 10)] + NATIVE_ONES_ATTRIBUTIVE[value % 10];
}

/** Native Korean number on its own (counting aloud): 1 → 하나, 20 → 스물, 21 → 스물하나. */
export function nativeKoreanCardinal(value: number): string {
  assertNativeRange(value);
  return NATIVE_TENS[Math.floor(value / 10)] + NATIVE_ONES_CARDINAL[value % 10];
}

/** Whether a native Korean reading exists for this value (whole numbers 1–99). */
export function hasNativeKoreanReading(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 99;
}

function assertNativeRange(value: number): void {
  if (!hasNativeKoreanReading(value)) {
    throw new RangeError(`native Korean numbers cover 1–99, got ${value}: use sinoKoreanNumber instead`);
  }
}
