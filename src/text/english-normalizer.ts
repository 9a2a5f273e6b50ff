import {
  englishCardinal,
  englishDecimal,
  englishDigits,
  englishOrdinal,
  englishYear,
} from './english-numbers.ts';

/** English numbers, dates, times, money and percentages as words, so digits never reach the model raw. */
const NUMBER = String.raw`(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?`;
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function number(integer: string, fraction?: string): string {
  const digits = integer.replace(/,/g, '');
  return fraction === undefined ? englishCardinal(digits) : englishDecimal(digits, fraction);
}

function money(integer: string, fraction: string | undefined, unit: string, subunit: string): string {
  const whole = `${englishCardinal(integer.replace(/,/g, ''))} ${unit}${integer === '1' ? '' : 's'}`;
  if (!fraction || Number(fraction) === 0) return whole;
  const cents = Number(fraction.padEnd(2, '0').slice(0, 2));
  return `${whole} and ${englishCardinal(String(cents))} ${subunit}${cents === 1 ? '' : 's'}`;
}

function time(hours: string, minutes: string): string | undefined {
  const h = Number(hours);
  const m = Number(minutes);
  if (h > 24 || m > 59) return undefined;
  if (m === 0) return `${englishCardinal(String(h))} o'clock`;
  return `${englishCardinal(String(h))} ${m < 10 ? `oh ${englishCardinal(String(m))}` : englishCardinal(String(m))}`;
}

type Rule = [RegExp, (...groups: string[]) => string];
const CURRENCIES: Record<string, [string, string]> = {
  $: ['dollar', 'cent'],
  '€': ['euro', 'cent'],
  '£': ['pound', 'penny'],
};

const RULES: Rule[] = [
  [
    /(?<![\d-])(\d{3})-(\d{3})-(\d{4})(?![\d-])/g,
    (_m, a, b, c) => `${englishDigits(a)}, ${englishDigits(b)}, ${englishDigits(c)}`,
  ],
  [
    /(?<![\d.])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d])/g,
    (match, y, m, d) =>
      Number(m) >= 1 && Number(m) <= 12 && Number(d) >= 1 && Number(d) <= 31
        ? `${MONTH_NAMES[Number(m) - 1]} ${englishOrdinal(String(Number(d)))}, ${englishYear(y)}`
        : match,
  ],
  // a.m./p.m. only right after a number or time (never the word "am"); a final period stays.
  [
    /(?<=\d)\s?([ap])\.?m(\.?)(?![a-z])/gi,
    (match, letter, dot, offset, whole) =>
      ` ${letter.toLowerCase()} m${dot && /^\s*$/.test(whole.slice(Number(offset) + match.length)) ? '.' : ''}`,
  ],
  [/(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])/g, (match, h, m) => time(h, m) ?? match],
  [
    new RegExp(`([$€£])\\s?${NUMBER}`, 'g'),
    (_m, symbol, integer, fraction) => money(integer, fraction, ...CURRENCIES[symbol]),
  ],
  [new RegExp(`${NUMBER}\\s?%`, 'g'), (_m, integer, fraction) => `${number(integer, fraction)} percent`],
  [/(?<![\d.])(\d+)(st|nd|rd|th)\b/g, (_m, digits) => englishOrdinal(digits)],
  // Four-digit years after words that introduce them: in 2025, since 1999.
  [
    /\b(in|since|by|from|until|year|of|before|after)\s+(1[1-9]\d{2}|20\d{2})(?![\d,.]\d)/gi,
    (_m, word, year) => `${word} ${englishYear(year)}`,
  ],
  [/(^|[\s(])[-−](?=\d)/g, (_m, before) => `${before}minus `],
  [new RegExp(`(?<![\\d.,])${NUMBER}`, 'g'), (_m, integer, fraction) => number(integer, fraction)],
  [/\s?&\s?/g, () => ' and '],
];

export function normalizeEnglish(text: string): string {
  let result = text;
  for (const [pattern, replace] of RULES) {
    result = result.replace(pattern, replace as (substring: string, ...args: string[]) => string);
  }
  return result.replace(/[ \t]{2,}/g, ' ');
}
