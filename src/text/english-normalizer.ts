/**
 * Rewrites digits, dates, times, money, percentages, units and common abbreviations in English
 * text into words, so that no digit reaches the TTS model raw.
 *
 * Choices: a bare four-digit number from 1100 to 2099 (no separator, no unit) reads as a year
 * (2025 → twenty twenty-five); times read as said (10:30 → ten thirty, 10:00 → ten o'clock,
 * 10:05 → ten oh five); ISO dates read month-first (2025-03-01 → March first, twenty twenty-five).
 */
import {
  englishCardinal,
  englishDecimal,
  englishOrdinal,
  englishYear,
  readDigitsEnglish,
} from './english-numbers.ts';

// prettier-ignore
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November',
  'December',
] as const;
const NUMBER_SOURCE = String.raw`\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?`;
const SCALE_WORDS = 'thousand|million|billion|trillion';

const CURRENCIES: Readonly<Record<string, readonly [string, string, string, string]>> = {
  // sign: singular, plural, minor singular, minor plural
  $: ['dollar', 'dollars', 'cent', 'cents'],
  '€': ['euro', 'euros', 'cent', 'cents'],
  '£': ['pound', 'pounds', 'penny', 'pence'],
  '¥': ['yen', 'yen', 'sen', 'sen'],
  '₩': ['won', 'won', 'jeon', 'jeon'],
};

const UNITS: Readonly<Record<string, readonly [string, string]>> = {
  'km/h': ['kilometer per hour', 'kilometers per hour'],
  mph: ['mile per hour', 'miles per hour'],
  km: ['kilometer', 'kilometers'],
  kg: ['kilogram', 'kilograms'],
  cm: ['centimeter', 'centimeters'],
  mm: ['millimeter', 'millimeters'],
  mg: ['milligram', 'milligrams'],
  ml: ['milliliter', 'milliliters'],
  mL: ['milliliter', 'milliliters'],
  m: ['meter', 'meters'],
  g: ['gram', 'grams'],
  L: ['liter', 'liters'],
  lb: ['pound', 'pounds'],
  lbs: ['pound', 'pounds'],
  ft: ['foot', 'feet'],
  '°C': ['degree Celsius', 'degrees Celsius'],
  '°F': ['degree Fahrenheit', 'degrees Fahrenheit'],
  '°': ['degree', 'degrees'],
  GB: ['gigabyte', 'gigabytes'],
  MB: ['megabyte', 'megabytes'],
  TB: ['terabyte', 'terabytes'],
  GHz: ['gigahertz', 'gigahertz'],
  Hz: ['hertz', 'hertz'],
  kW: ['kilowatt', 'kilowatts'],
};

const ABBREVIATIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bMr\./g, 'Mister'],
  [/\bMrs\./g, 'Missus'],
  [/\bDr\.(?=\s+[A-Z])/g, 'Doctor'],
  [/\be\.g\./g, 'for example'],
  [/\bi\.e\./g, 'that is'],
  [/\betc\.(?=\s+[a-z])/g, 'et cetera'],
  [/\betc\./g, 'et cetera.'],
  [/\bNo\.\s?(?=\d)/g, 'number '],
  [/\bvs\.?(?=\s)/g, 'versus'],
];

function alternation(words: Iterable<string>): string {
  return [...words]
    .sort((left, right) => right.length - left.length)
    .map((word) => word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('|');
}

const PHONE = /(?<![\d-])(?:\+?1[-. ])?\(?(\d{3})\)?[-. ](\d{3})[-.](\d{4})(?![\d-])/g;
const ISO_DATE = /(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])/g;
const MONTH_DAY = new RegExp(`\\b(${MONTHS.join('|')})\\s+(\\d{1,2})(?:st|nd|rd|th)?\\b`, 'g');
const TIME = /(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])(?:\s?([AaPp])\.?[Mm]\.?(?![A-Za-z]))?/g;
const CURRENCY = new RegExp(
  `([${Object.keys(CURRENCIES).join('')}])\\s?(${NUMBER_SOURCE})(?:\\s(${SCALE_WORDS}))?`,
  'g',
);
const PERCENT = new RegExp(`([-−])?(${NUMBER_SOURCE})\\s?%`, 'g');
const UNIT = new RegExp(`(${NUMBER_SOURCE})\\s?(${alternation(Object.keys(UNITS))})(?![A-Za-z])`, 'g');
const ORDINAL = /(?<![\dA-Za-z])(\d+)(st|nd|rd|th)(?![A-Za-z])/g;
const YEAR = /(?<![\d,.$€£¥₩-])(1[1-9]\d{2}|20\d{2})(?!\d|[,.]\d)/g;
const NUMBER = new RegExp(`(?:(?<![\\p{L}\\p{N}])([-−]))?(${NUMBER_SOURCE})`, 'gu');
const DECADE = /(?<![\d,.])(1[1-9]\d0|20\d0|[1-9]0)'?s\b/g;
const SYMBOLS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\s?&\s?/g, ' and '],
  [/(?<=\d)\s?\+\s?(?=\d)/g, ' plus '],
  [/(?<=\d)\s?=\s?(?=\d)/g, ' equals '],
  [/(?<=\d)\s?[×x]\s?(?=\d)/g, ' times '],
];
const SPACES = /[ \t]{2,}/g;

function readMoney(sign: string, amount: string, scale: string | undefined): string {
  const [singular, plural, minorSingular, minorPlural] = CURRENCIES[sign];
  if (scale) return `${englishDecimal(amount)} ${scale} ${plural}`;
  const [integerText, fraction] = amount.replace(/,/g, '').split('.');
  const integer = Number(integerText);
  const major = `${englishCardinal(integerText)} ${integer === 1 ? singular : plural}`;
  if (fraction === undefined) return major;
  if (fraction.length !== 2) return `${englishDecimal(amount)} ${plural}`;
  const minor = Number(fraction);
  if (minor === 0) return major;
  const minorWords = `${englishCardinal(minor)} ${minor === 1 ? minorSingular : minorPlural}`;
  return integer === 0 ? minorWords : `${major} and ${minorWords}`;
}

function readTime(
  hour: number,
  minute: number,
  second: number | undefined,
  meridiem: string | undefined,
): string {
  let words = englishCardinal(hour);
  if (minute === 0) words += meridiem ? '' : " o'clock";
  else if (minute < 10) words += ` oh ${englishCardinal(minute)}`;
  else words += ` ${englishCardinal(minute)}`;
  if (second !== undefined && second > 0)
    words += ` and ${englishCardinal(second)} second${second === 1 ? '' : 's'}`;
  if (meridiem) words += meridiem.toLowerCase() === 'a' ? ' AM' : ' PM';
  return words;
}

/** English text normalization; see the module comment for the rules. */
export function normalizeEnglish(text: string): string {
  let result = text;
  for (const [pattern, replacement] of ABBREVIATIONS) result = result.replace(pattern, replacement);
  result = result.replace(PHONE, (_match, area: string, exchange: string, line: string) => {
    return [area, exchange, line].map(readDigitsEnglish).join(', ');
  });
  result = result.replace(ISO_DATE, (match, year: string, month: string, day: string) => {
    const monthNumber = Number(month);
    const dayNumber = Number(day);
    if (monthNumber < 1 || monthNumber > 12 || dayNumber < 1 || dayNumber > 31) return match;
    return `${MONTHS[monthNumber - 1]} ${englishOrdinal(dayNumber)}, ${englishYear(Number(year))}`;
  });
  result = result.replace(
    MONTH_DAY,
    (_match, month: string, day: string) => `${month} ${englishOrdinal(day)}`,
  );
  result = result.replace(
    TIME,
    (
      match,
      hourText: string,
      minuteText: string,
      secondText: string | undefined,
      meridiem: string | undefined,
    ) => {
      const hour = Number(hourText);
      const minute = Number(minuteText);
      const second = secondText === undefined ? undefined : Number(secondText);
      if (hour > 24 || minute > 59 || (second !== undefined && second > 59)) return match;
      return readTime(hour, minute, second, meridiem);
    },
  );
  result = result.replace(CURRENCY, (_match, sign: string, amount: string, scale: string | undefined) =>
    readMoney(sign, amount, scale),
  );
  result = result.replace(PERCENT, (_match, sign: string | undefined, amount: string) => {
    return `${sign ? 'minus ' : ''}${englishDecimal(amount)} percent`;
  });
  result = result.replace(UNIT, (_match, amount: string, unit: string) => {
    const [singular, plural] = UNITS[unit];
    return `${englishDecimal(amount)} ${amount === '1' ? singular : plural}`;
  });
  result = result.replace(DECADE, (_match, decade: string) => {
    const words = decade.length === 4 ? englishYear(Number(decade)) : englishCardinal(decade);
    return words.endsWith('y') ? `${words.slice(0, -1)}ies` : `${words}s`;
  });
  for (const [pattern, replacement] of SYMBOLS) result = result.replace(pattern, replacement);
  result = result.replace(ORDINAL, (_match, number: string) => englishOrdinal(number));
  result = result.replace(YEAR, (year: string) => englishYear(Number(year)));
  result = result.replace(NUMBER, (_match, sign: string | undefined, amount: string) => {
    return englishDecimal(`${sign ? '-' : ''}${amount}`);
  });
  return result.replace(SPACES, ' ');
}
