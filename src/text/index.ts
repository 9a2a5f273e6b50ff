export { splitSentences, DEFAULT_MAX_SENTENCE_CHARS, DEFAULT_MIN_SENTENCE_CHARS } from './split-sentences.ts';
export type { SplitSentencesOptions } from './split-sentences.ts';
export { isMostlyHangul, isMostlyHanOrKana } from './is-mostly-hangul.ts';
export { looksEnglish } from './looks-english.ts';
export { normalizeText, prepareSpeechText, resolveNormalizationLanguage } from './normalize-text.ts';
export type {
  NormalizeTextOptions,
  PrepareSpeechTextOptions,
  PreparedSpeechText,
  NormalizationLanguage,
} from './normalize-text.ts';
export { loadLexiconFile, applyLexicons } from './lexicon.ts';
export type { Lexicon } from './lexicon.ts';
export { normalizeKorean, readKoreanMonth } from './korean-normalizer.ts';
export { normalizeEnglish } from './english-normalizer.ts';
export {
  sinoKoreanNumber,
  sinoKoreanDecimal,
  nativeKoreanAttributive,
  nativeKoreanCardinal,
  readDigitsPhone,
  readDigitsSino,
} from './korean-numbers.ts';
export { englishCardinal, englishDecimal, englishOrdinal, englishYear } from './english-numbers.ts';
export { KOREAN_LATIN_READINGS, KOREAN_LETTER_NAMES, readLatinInKorean } from './acronyms.ts';
