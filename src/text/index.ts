export { normalizeText, prepareSpeechText, type NormalizeOptions } from './normalize-text.ts';
export { splitSentences, isMostlyHangul, DEFAULT_MAX_CHARS, DEFAULT_MIN_CHARS } from './split-sentences.ts';
export { normalizeKorean } from './korean-normalizer.ts';
export { normalizeEnglish } from './english-normalizer.ts';
export { applyLexicon, loadLexiconFile } from './lexicon.ts';
