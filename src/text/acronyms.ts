/**
 * Latin letters inside Korean text, read the way Korean speakers say them. Known words and
 * acronyms come from KOREAN_LATIN_READINGS (acronyms in capitals only, words in any case); any other all-capital token is spelled with Korean
 * letter names (KPI → 케이피아이); other Latin words stay as they are (the model reads English).
 * Users extend the table per request (`pronunciations`) or server-wide (the lexicon file): those
 * apply before this table.
 */

// prettier-ignore
export const KOREAN_LETTER_NAMES: Readonly<Record<string, string>> = {
  A: '에이', B: '비', C: '씨', D: '디', E: '이', F: '에프', G: '지', H: '에이치', I: '아이', J: '제이',
  K: '케이', L: '엘', M: '엠', N: '엔', O: '오', P: '피', Q: '큐', R: '알', S: '에스', T: '티', U: '유',
  V: '브이', W: '더블유', X: '엑스', Y: '와이', Z: '제트',
};

/**
 * Words and acronyms whose Korean reading is not just their letters spelled out, or that are so
 * common they are worth fixing. Keys match exactly; keys with a lower-case letter also match in any case.
 */
// prettier-ignore
export const KOREAN_LATIN_READINGS: Readonly<Record<string, string>> = {
  AI: '에이아이', CEO: '씨이오', CFO: '씨에프오', CTO: '씨티오', IT: '아이티', PPT: '피피티', HR: '에이치알',
  KPI: '케이피아이', API: '에이피아이', SNS: '에스엔에스', TV: '티비', PC: '피씨', USB: '유에스비',
  CCTV: '씨씨티비', DNA: '디엔에이', GDP: '지디피', OK: '오케이', NASA: '나사', UN: '유엔', EU: '이유',
  USA: '유에스에이', UK: '유케이', KBS: '케이비에스', MBC: '엠비씨', SBS: '에스비에스', BTS: '비티에스',
  IMF: '아이엠에프', FAQ: '에프에이큐', PDF: '피디에프', URL: '유알엘', HTML: '에이치티엠엘', CPU: '씨피유',
  GPU: '지피유', RAM: '램', ID: '아이디', LED: '엘이디', LCD: '엘씨디', ATM: '에이티엠', VIP: '브이아이피',
  PR: '피알', QR: '큐알', GPS: '지피에스', ESG: '이에스지', MZ: '엠제트', ASAP: '에이샙', UX: '유엑스',
  UI: '유아이', IoT: '아이오티', AR: '에이알', VR: '브이알', GPT: '지피티', ChatGPT: '챗지피티', OTT: '오티티',
  NATO: '나토', UNESCO: '유네스코', FIFA: '피파', OPEC: '오펙', LOL: '롤', AIDS: '에이즈', MRI: '엠알아이',
  CT: '씨티', ICU: '아이씨유', KTX: '케이티엑스', SRT: '에스알티', LG: '엘지', SK: '에스케이', KT: '케이티',
  NFT: '엔에프티', B2B: '비투비', B2C: '비투씨', MP3: '엠피쓰리', MP4: '엠피포', A4: '에이포', '3D': '쓰리디',
  '4K': '포케이', '5G': '파이브지', '4G': '포지', LTE: '엘티이', 'Wi-Fi': '와이파이', WiFi: '와이파이',
  'K-pop': '케이팝', 'K-POP': '케이팝', 'e-mail': '이메일', email: '이메일', app: '앱', online: '온라인',
  offline: '오프라인', Google: '구글', Apple: '애플', Samsung: '삼성', iPhone: '아이폰', iPad: '아이패드',
  YouTube: '유튜브', Netflix: '넷플릭스', Microsoft: '마이크로소프트', OpenAI: '오픈에이아이', Kakao: '카카오',
  Naver: '네이버', Instagram: '인스타그램', Facebook: '페이스북', Excel: '엑셀', Word: '워드', Zoom: '줌',
  meeting: '미팅', team: '팀', project: '프로젝트', data: '데이터', service: '서비스', system: '시스템',
  cloud: '클라우드', server: '서버', test: '테스트', Python: '파이썬', Java: '자바', JavaScript: '자바스크립트',
  TypeScript: '타입스크립트', video: '비디오', ok: '오케이', Mr: '미스터', Ms: '미즈', Dr: '닥터', vs: '대',
  Q: '큐', A: '에이', COVID: '코비드',
};

/** Latin words, possibly with inner hyphens or digits (Wi-Fi, MP3, B2B) or leading digits (3D, 5G). */
const LATIN_WORD =
  /(?<![A-Za-z0-9])(?:\d[A-Za-z]+|[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z][A-Za-z0-9]*)*)(?![A-Za-z])/g;
const ALL_CAPITALS = /^[A-Z]+$/;
/** Titles with their dot: the dot goes too, or the sentence splitter would see a sentence end. */
const TITLE_READINGS: Readonly<Record<string, string>> = {
  Mr: '미스터',
  Mrs: '미세스',
  Ms: '미즈',
  Dr: '닥터',
  Prof: '프로페서',
  vs: '대',
};
const TITLE_WITH_DOT = /(?<![A-Za-z])(Mr|Mrs|Ms|Dr|Prof|vs)\.(?=\s)/g;

const exactReadings = new Map(Object.entries(KOREAN_LATIN_READINGS));
const caseInsensitiveReadings = new Map<string, string>();
for (const [word, reading] of Object.entries(KOREAN_LATIN_READINGS)) {
  // Acronyms match only in capitals: "it" or "id" in an English phrase is not IT or ID.
  if (!/[a-z]/.test(word)) continue;
  const key = word.toLowerCase();
  if (!caseInsensitiveReadings.has(key)) caseInsensitiveReadings.set(key, reading);
}

/** Spells capital letters with Korean letter names: KPI → 케이피아이. */
export function spellLatinLettersInKorean(letters: string): string {
  let words = '';
  for (const letter of letters.toUpperCase()) words += KOREAN_LETTER_NAMES[letter] ?? letter;
  return words;
}

function readLatinWord(word: string): string | undefined {
  const known = exactReadings.get(word) ?? caseInsensitiveReadings.get(word.toLowerCase());
  if (known !== undefined) return known;
  if (ALL_CAPITALS.test(word)) return spellLatinLettersInKorean(word);
  if (word.includes('-')) {
    const parts = word.split('-').map((part) => readLatinWord(part) ?? part);
    return parts.join(' ');
  }
  return undefined;
}

/**
 * Replaces known Latin words and all-capital acronyms with their Hangul readings; leaves other
 * Latin words alone. Digits inside a token are left for the number rules (S24 → 에스24).
 */
export function readLatinInKorean(text: string): string {
  return text
    .replace(TITLE_WITH_DOT, (_match, title: string) => TITLE_READINGS[title])
    .replace(LATIN_WORD, (word) => {
      const whole = readLatinWord(word);
      if (whole !== undefined) return whole;
      // A capital prefix glued to digits, such as S24 or A380: read the letters, keep the digits.
      const prefix = /^([A-Z]+)(\d+)$/.exec(word);
      if (prefix) return spellLatinLettersInKorean(prefix[1]) + prefix[2];
      // Digits glued to capitals, such as 3M: keep the digit for the number rules, spell the letters.
      const suffix = /^(\d)([A-Z]+)$/.exec(word);
      if (suffix) return suffix[1] + spellLatinLettersInKorean(suffix[2]);
      return word;
    });
}
