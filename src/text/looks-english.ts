/**
 * Whether Latin-script text is English, for choosing the English rules under language "Auto".
 * The seed's other Latin-script languages (German, French, Spanish, Italian, Portuguese) must not
 * get English number words, so a cheap vote of very common function words decides; without any
 * such word, accented letters (over 3% of the letters) or a non-Latin script mean "not English".
 * Text without letters counts as English, so that Auto never leaves bare digits.
 */

// prettier-ignore
const ENGLISH_WORDS = new Set([
  'the', 'and', 'is', 'are', 'to', 'of', 'in', 'it', 'you', 'that', 'this', 'for', 'with', 'on', 'was', 'i',
  'we', 'have', 'be', 'at', 'my', 'your', 'will', 'from', 'an', 'or', 'not', 'he', 'she', 'they', 'what',
]);
// prettier-ignore
const OTHER_LATIN_WORDS = new Set([
  'der', 'die', 'das', 'und', 'ist', 'nicht', 'ich', 'ein', 'eine', 'mit', 'sie', 'wir', 'zu', 'den', 'von',
  'le', 'la', 'les', 'et', 'est', 'des', 'une', 'je', 'pas', 'du', 'que', 'qui', 'pour', 'dans', 'sur',
  'el', 'los', 'las', 'y', 'es', 'una', 'por', 'con', 'del', 'para', 'il', 'di', 'che', 'non', 'sono',
  'gli', 'um', 'não', 'com', 'uma', 'os', 'de', 'en', 'un',
]);
const WORD = /\p{L}+/gu;
const LATIN_LETTER = /[A-Za-z\u00C0-\u024F]/g;
const ACCENTED_LETTER = /[\u00C0-\u024F]/g;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** True when the text reads as English; see the module comment. */
export function looksEnglish(text: string): boolean {
  let english = 0;
  let other = 0;
  for (const [word] of text.toLowerCase().matchAll(WORD)) {
    if (ENGLISH_WORDS.has(word)) english += 1;
    else if (OTHER_LATIN_WORDS.has(word)) other += 1;
  }
  const letters = count(text, /\p{L}/gu);
  if (letters === 0) return true;
  const latin = count(text, LATIN_LETTER);
  if (latin / letters < 0.9) return false;
  if (english !== other) return english > other;
  return count(text, ACCENTED_LETTER) / latin <= 0.03;
}
