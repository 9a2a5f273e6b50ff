/**
 * Reads an amount as Koreans write it: plain digits (1,234.5) or digits mixed with the magnitude
 * words 천/백/만/억/조 (5천만, 1억5천만, 2천5백만, 1만5000, 1.5억). Mixed amounts are added up
 * and read again, so 1억5천만 and 150,000,000 both come out as 일억 오천만.
 */
import { readDigitsPhone, sinoKoreanDecimal, sinoKoreanNumber } from './korean-numbers.ts';

/** Digits with optional thousands separators and decimals. */
export const PLAIN_NUMBER_SOURCE = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
/** A magnitude written in Hangul right after digits; 만큼/만약 and 백화점 are words, not magnitudes. */
const MAGNITUDE_SOURCE = String.raw`(?:천|백)?(?:조|억|만(?!큼|약))|천|백(?!화점)`;
/** One amount: a magnitude chain (1억5천만, 1만5000) or a plain number. */
export const KOREAN_AMOUNT_SOURCE = String.raw`(?:(?:${PLAIN_NUMBER_SOURCE})(?:${MAGNITUDE_SOURCE}))+(?:\d+(?![\d.]))?|${PLAIN_NUMBER_SOURCE}`;

const CHAIN_PART = /(\d+(?:\.\d+)?)((?:천|백)?(?:조|억|만)?|천|백)?/g;
const SMALL_MULTIPLIERS: Record<string, bigint> = { 천: 1000n, 백: 100n };
const BIG_MULTIPLIERS: Record<string, bigint> = { 만: 10n ** 4n, 억: 10n ** 8n, 조: 10n ** 12n };
const FRACTION_DIGITS = 6;
const SCALE = 10n ** BigInt(FRACTION_DIGITS);

export interface KoreanAmount {
  /** The Sino-Korean reading. */
  words: string;
  /** The value when it is a whole number that fits a double exactly, for choosing counters. */
  wholeNumber: number | undefined;
}

/** Reads one amount matched by KOREAN_AMOUNT_SOURCE. */
export function readKoreanAmount(raw: string): KoreanAmount {
  const text = raw.replace(/,/g, '');
  if (/^\d+$/.test(text)) {
    // Leading zeros on three or more digits mean a code (007, 0012), read digit by digit; two
    // digits (09시, 05분) are zero-padded numbers.
    if (text.length > 2 && text.startsWith('0'))
      return { words: readDigitsPhone(text), wholeNumber: undefined };
    return { words: sinoKoreanNumber(text), wholeNumber: toSafeNumber(BigInt(text)) };
  }
  if (/^\d+\.\d+$/.test(text)) return { words: sinoKoreanDecimal(text), wholeNumber: undefined };
  const total = sumChain(text);
  if (total === undefined || total % SCALE !== 0n)
    return { words: readChainPiecewise(text), wholeNumber: undefined };
  const whole = total / SCALE;
  return { words: sinoKoreanNumber(whole), wholeNumber: toSafeNumber(whole) };
}

/** Adds up a magnitude chain in units of 1/SCALE; undefined when a decimal is too long to be exact. */
function sumChain(text: string): bigint | undefined {
  let total = 0n;
  let pending = 0n;
  for (const [, number, magnitude = ''] of text.matchAll(CHAIN_PART)) {
    if (number === undefined) continue;
    const [integer, fraction = ''] = number.split('.');
    if (fraction.length > FRACTION_DIGITS) return undefined;
    let value = BigInt(integer) * SCALE + BigInt(fraction.padEnd(FRACTION_DIGITS, '0'));
    const small = SMALL_MULTIPLIERS[magnitude.charAt(0)];
    if (small !== undefined) value *= small;
    pending += value;
    const big = BIG_MULTIPLIERS[magnitude.charAt(magnitude.length - 1)];
    if (big !== undefined) {
      total += pending * big;
      pending = 0n;
    }
  }
  return total + pending;
}

/** Fallback for chains that do not add up to a whole number: each part read as written. */
function readChainPiecewise(text: string): string {
  return text.replace(/\d+(?:\.\d+)?/g, (number) => sinoKoreanDecimal(number));
}

function toSafeNumber(value: bigint): number | undefined {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}
