/** Reading numbers in Korean: Sino-Korean (일, 이, 삼 …) and native Korean (하나, 둘 … 아흔아홉). */

const SINO_DIGITS = ['영', '일', '이', '삼', '사', '오', '육', '칠', '팔', '구'];
const SMALL_UNITS = ['', '십', '백', '천'];
const LARGE_UNITS = ['', '만', '억', '조', '경'];

/** 0–9999 without the elided 일 before 십/백/천 (10 → 십, 1000 → 천). */
function sinoBelowTenThousand(value: number): string {
  let result = '';
  const digits = String(value).padStart(4, '0');
  for (let position = 0; position < 4; position += 1) {
    const digit = Number(digits[position]);
    if (digit === 0) continue;
    const unit = SMALL_UNITS[3 - position];
    result += (digit === 1 && unit !== '' ? '' : SINO_DIGITS[digit]) + unit;
  }
  return result;
}

/**
 * An integer (given as digits, any size up to 경) in Sino-Korean, grouped by 만/억/조 with a space
 * after each group: 1234567 → 백이십삼만 사천오백육십칠. 10000 reads 만 (not 일만); 억 and 조 keep 일.
 */
export function sinoKorean(digits: string): string {
  const clean = digits.replace(/^0+(?=\d)/, '');
  if (/^0*$/.test(clean)) return '영';
  if (clean.length > 20) return readDigits(clean);
  const groups: string[] = [];
  for (let end = clean.length; end > 0; end -= 4) groups.unshift(clean.slice(Math.max(0, end - 4), end));
  const words: string[] = [];
  groups.forEach((group, index) => {
    const value = Number(group);
    if (value === 0) return;
    const unit = LARGE_UNITS[groups.length - 1 - index];
    const reading = unit === '만' && value === 1 ? '' : sinoBelowTenThousand(value);
    words.push(reading + unit);
  });
  return words.join(' ');
}

/** Digit by digit, as phone numbers and codes are read; 0 is 공. */
export function readDigits(digits: string, zero = '공'): string {
  return [...digits].map((digit) => (digit === '0' ? zero : SINO_DIGITS[Number(digit)])).join('');
}

/** 3.14 → 삼 점 일사 (digits after the point one by one). */
export function sinoDecimal(integerDigits: string, fractionDigits: string): string {
  return `${sinoKorean(integerDigits)} 점 ${readDigits(fractionDigits, '영')}`;
}

const NATIVE_TENS = ['', '열', '스물', '서른', '마흔', '쉰', '예순', '일흔', '여든', '아흔'];
const NATIVE_ONES = ['', '하나', '둘', '셋', '넷', '다섯', '여섯', '일곱', '여덟', '아홉'];
/** Before a counter, 하나/둘/셋/넷 and a bare 스물 shorten: 한 개, 두 명, 세 시, 네 권, 스무 살. */
const ATTRIBUTIVE_ONES = ['', '한', '두', '세', '네', '다섯', '여섯', '일곱', '여덟', '아홉'];

/** 1–99 in native Korean; `attributive` gives the form used before a counter. Undefined outside 1–99. */
export function nativeKorean(value: number, attributive: boolean): string | undefined {
  if (!Number.isInteger(value) || value < 1 || value > 99) return undefined;
  const tens = Math.floor(value / 10);
  const ones = value % 10;
  if (ones === 0) return attributive && tens === 2 ? '스무' : NATIVE_TENS[tens];
  return NATIVE_TENS[tens] + (attributive ? ATTRIBUTIVE_ONES : NATIVE_ONES)[ones];
}

/** Korean letter names for spelling Latin acronyms (AI → 에이아이). */
export const LATIN_LETTER_NAMES: Record<string, string> = {
  A: '에이',
  B: '비',
  C: '씨',
  D: '디',
  E: '이',
  F: '에프',
  G: '지',
  H: '에이치',
  I: '아이',
  J: '제이',
  K: '케이',
  L: '엘',
  M: '엠',
  N: '엔',
  O: '오',
  P: '피',
  Q: '큐',
  R: '알',
  S: '에스',
  T: '티',
  U: '유',
  V: '브이',
  W: '더블유',
  X: '엑스',
  Y: '와이',
  Z: '제트',
};

export function spellLatin(word: string): string {
  return [...word.toUpperCase()].map((letter) => LATIN_LETTER_NAMES[letter] ?? letter).join('');
}
