/** Cardinal, ordinal and year readings of numbers in English. */
const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion'];

function belowThousand(value: number): string {
  const words: string[] = [];
  const hundreds = Math.floor(value / 100);
  const rest = value % 100;
  if (hundreds > 0) words.push(`${ONES[hundreds]} hundred`);
  if (rest > 0 && rest < 20) words.push(ONES[rest]);
  else if (rest >= 20) words.push(TENS[Math.floor(rest / 10)] + (rest % 10 ? `-${ONES[rest % 10]}` : ''));
  return words.join(' ');
}

/** Integers given as digits: 1234 → one thousand two hundred thirty-four. */
export function englishCardinal(digits: string): string {
  const clean = digits.replace(/^0+(?=\d)/, '');
  if (/^0+$/.test(clean)) return 'zero';
  if (clean.length > 18) return [...clean].map((digit) => ONES[Number(digit)]).join(' ');
  const groups: number[] = [];
  for (let end = clean.length; end > 0; end -= 3)
    groups.unshift(Number(clean.slice(Math.max(0, end - 3), end)));
  return groups
    .map((group, index) =>
      group === 0 ? '' : `${belowThousand(group)} ${SCALES[groups.length - 1 - index]}`.trim(),
    )
    .filter(Boolean)
    .join(' ');
}

const IRREGULAR_ORDINALS: Record<string, string> = {
  one: 'first',
  two: 'second',
  three: 'third',
  five: 'fifth',
  eight: 'eighth',
  nine: 'ninth',
  twelve: 'twelfth',
};

export function englishOrdinal(digits: string): string {
  const cardinal = englishCardinal(digits);
  return cardinal.replace(/([a-z]+)$/, (last) => {
    if (IRREGULAR_ORDINALS[last]) return IRREGULAR_ORDINALS[last];
    if (last.endsWith('y')) return `${last.slice(0, -1)}ieth`;
    return `${last}th`;
  });
}

/** Years as people say them: 1999 → nineteen ninety-nine, 2005 → two thousand five, 2025 → twenty twenty-five. */
export function englishYear(digits: string): string {
  const value = Number(digits);
  if (value < 1000 || value > 9999 || (value >= 2000 && value < 2010)) return englishCardinal(digits);
  const first = Math.floor(value / 100);
  const last = value % 100;
  if (last === 0) return `${englishCardinal(String(first))} hundred`;
  return `${englishCardinal(String(first))} ${last < 10 ? `oh ${ONES[last]}` : englishCardinal(String(last))}`;
}

export function englishDecimal(integer: string, fraction: string): string {
  return `${englishCardinal(integer)} point ${[...fraction].map((digit) => ONES[Number(digit)]).join(' ')}`;
}

export function englishDigits(digits: string): string {
  return [...digits].map((digit) => (digit === '0' ? 'oh' : ONES[Number(digit)])).join(' ');
}
