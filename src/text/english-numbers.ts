/** English number words: cardinals, ordinals, years and digit-by-digit readings. */

// prettier-ignore
const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen',
] as const;
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'] as const;
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion'] as const;
// prettier-ignore
const IRREGULAR_ORDINALS: Readonly<Record<string, string>> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth',
};

function readBelowThousand(value: number): string {
  const hundreds = Math.floor(value / 100);
  const rest = value % 100;
  const parts: string[] = [];
  if (hundreds > 0) parts.push(`${ONES[hundreds]} hundred`);
  if (rest > 0 || hundreds === 0) {
    if (rest < 20) parts.push(ONES[rest]);
    else parts.push(TENS[Math.floor(rest / 10)] + (rest % 10 ? `-${ONES[rest % 10]}` : ''));
  }
  return parts.join(' ');
}

/** Every digit on its own: 2025 → two zero two five. */
export function readDigitsEnglish(digits: string): string {
  return [...digits]
    .filter((character) => character >= '0' && character <= '9')
    .map((digit) => ONES[Number(digit)])
    .join(' ');
}

/** 42 → forty-two, 1,234 → one thousand two hundred thirty-four; very long numbers read digit by digit. */
export function englishCardinal(value: string | number | bigint): string {
  const digits = String(value)
    .replace(/,/g, '')
    .replace(/^0+(?=\d)/, '');
  if (!/^\d+$/.test(digits)) throw new TypeError(`not a non-negative integer: ${String(value)}`);
  if (digits.length > SCALES.length * 3) return readDigitsEnglish(digits);
  if (/^0+$/.test(digits)) return ONES[0];
  const parts: string[] = [];
  for (let end = digits.length, scale = 0; end > 0; end -= 3, scale += 1) {
    const group = Number(digits.slice(Math.max(0, end - 3), end));
    if (group === 0) continue;
    parts.unshift(readBelowThousand(group) + (SCALES[scale] ? ` ${SCALES[scale]}` : ''));
  }
  return parts.join(' ');
}

/** 3.14 → three point one four, -5 → minus five. */
export function englishDecimal(text: string): string {
  const match = /^([-−])?([\d,]+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new TypeError(`not a number: ${text}`);
  const [, sign, integer, fraction] = match;
  let words = englishCardinal(integer);
  if (fraction) words += ` point ${readDigitsEnglish(fraction)}`;
  return sign ? `minus ${words}` : words;
}

/** 1 → first, 22 → twenty-second, 100 → one hundredth. */
export function englishOrdinal(value: string | number): string {
  const cardinal = englishCardinal(value);
  const match = /^(.*?)([a-z]+)$/.exec(cardinal);
  if (!match) return cardinal;
  const [, head, last] = match;
  const irregular = IRREGULAR_ORDINALS[last];
  if (irregular) return head + irregular;
  if (last.endsWith('y')) return `${head}${last.slice(0, -1)}ieth`;
  return `${head}${last}th`;
}

/**
 * A year as said aloud: 2025 → twenty twenty-five, 2005 → two thousand five, 1999 → nineteen
 * ninety-nine, 1905 → nineteen oh five, 1900 → nineteen hundred. Outside 1100–2099: the cardinal.
 */
export function englishYear(value: number): string {
  if (!Number.isInteger(value) || value < 1100 || value > 2099) return englishCardinal(value);
  if (value >= 2000 && value < 2010) return englishCardinal(value);
  const century = Math.floor(value / 100);
  const rest = value % 100;
  if (rest === 0) return `${englishCardinal(century)} hundred`;
  if (rest < 10) return `${englishCardinal(century)} oh ${ONES[rest]}`;
  return `${englishCardinal(century)} ${englishCardinal(rest)}`;
}
