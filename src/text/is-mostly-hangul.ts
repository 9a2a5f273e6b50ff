/**
 * Script detection for choosing a normalizer under language "Auto".
 * A Hangul syllable carries about as much speech as three Latin letters, so Latin letters count a
 * third each; digits, punctuation and spaces do not count.
 */
const HANGUL = /[\uAC00-\uD7A3\u1100-\u11FF\u3130-\u318F]/g;
const HAN_OR_KANA = /[\u3040-\u30FF\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]/g;
const LATIN = /[A-Za-z\u00C0-\u024F]/g;

function count(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

/** True when Hangul makes up at least half of the text's letters (Latin letters weighted 1/3). */
export function isMostlyHangul(text: string): boolean {
  const hangul = count(text, HANGUL);
  if (hangul === 0) return false;
  const others = count(text, HAN_OR_KANA) + count(text, LATIN) / 3;
  return hangul >= others;
}

/** True when Chinese characters or Japanese kana outweigh Hangul and Latin letters (weighted as above). */
export function isMostlyHanOrKana(text: string): boolean {
  const hanOrKana = count(text, HAN_OR_KANA);
  if (hanOrKana === 0) return false;
  return hanOrKana >= count(text, HANGUL) + count(text, LATIN) / 3;
}
