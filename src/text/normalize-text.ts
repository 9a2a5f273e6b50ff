/**
 * The text pipeline's entry: lexicons, then language-specific normalization, then sentence
 * splitting. Language names are the seed's (Auto, Korean, English, Chinese, Japanese, …).
 *
 * - Korean, or Auto with mostly Hangul text: Korean readings (korean-normalizer.ts).
 * - English, or Auto with text in plain Latin letters (or none at all): English readings. Auto with
 *   Chinese, Japanese, Cyrillic or accented Latin text (German, French …) passes through.
 * - Any other language passes through unchanged (digits in Chinese/Japanese are read well by the
 *   model, and a wrong rule would be worse than none).
 * Web and e-mail addresses are left as written.
 * `normalize: false` turns the automatic rules off; lexicon and pronunciation entries still apply,
 * because the caller asked for them explicitly.
 */
import { normalizeEnglish } from './english-normalizer.ts';
import { isMostlyHangul } from './is-mostly-hangul.ts';
import { looksEnglish } from './looks-english.ts';
import { normalizeKorean } from './korean-normalizer.ts';
import { applyLexicons, type Lexicon } from './lexicon.ts';
import { splitSentences, type SplitSentencesOptions } from './split-sentences.ts';

export type NormalizationLanguage = 'korean' | 'english' | 'none';

export interface NormalizeTextOptions {
  /** The request's language: Auto, Korean, English, Chinese, Japanese, … (case-insensitive). */
  language: string;
  /** Per-request readings of whole words or terms; they win over `lexicon`. */
  pronunciations?: Lexicon;
  /** The server-wide lexicon (PRONUNCIATION_LEXICON_FILE). */
  lexicon?: Lexicon;
  /** false: apply only the lexicons, no number/date/symbol rules. Default true. */
  normalize?: boolean;
}

export interface PrepareSpeechTextOptions extends NormalizeTextOptions, SplitSentencesOptions {
  /** true: split into sentences; false: one piece; null/undefined: auto (split when there is more than one sentence). */
  split?: boolean | null;
}

export interface PreparedSpeechText {
  normalized: string;
  sentences: string[];
}

const SPACES = /[ \t]{2,}/g;
/** Web addresses and e-mail addresses are left exactly as written: a rule would only garble them. */
const ADDRESS = /(?:https?:\/\/|www\.)[^\s<>"']+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;

/** Runs a normalizer on the text between addresses. */
function outsideAddresses(text: string, normalizer: (part: string) => string): string {
  let result = '';
  let last = 0;
  for (const match of text.matchAll(ADDRESS)) {
    const index = match.index ?? 0;
    result += normalizer(text.slice(last, index)) + match[0];
    last = index + match[0].length;
  }
  return result + normalizer(text.slice(last));
}

/** Which rules apply to this text in this language. */
export function resolveNormalizationLanguage(text: string, language: string): NormalizationLanguage {
  switch (language.trim().toLowerCase()) {
    case 'korean':
    case 'ko':
      return 'korean';
    case 'english':
    case 'en':
      return 'english';
    case 'auto':
    case '':
      if (isMostlyHangul(text)) return 'korean';
      return looksEnglish(text) ? 'english' : 'none';
    default:
      return 'none';
  }
}

/** Applies the lexicons, then the language's reading rules; see the module comment. */
export function normalizeText(text: string, options: NormalizeTextOptions): string {
  const withLexicons = applyLexicons(text, [options.pronunciations, options.lexicon]);
  if (options.normalize === false) return withLexicons;
  // Auto decides on the original text: the lexicon may have turned Latin terms into Hangul.
  switch (resolveNormalizationLanguage(text, options.language)) {
    case 'korean':
      return outsideAddresses(withLexicons, normalizeKorean).replace(SPACES, ' ');
    case 'english':
      return outsideAddresses(withLexicons, normalizeEnglish).replace(SPACES, ' ');
    default:
      return withLexicons;
  }
}

/** Normalization, then splitting into the pieces sent to the TTS engine one by one. */
export function prepareSpeechText(text: string, options: PrepareSpeechTextOptions): PreparedSpeechText {
  const normalized = normalizeText(text, options).trim();
  if (options.split === false) return { normalized, sentences: normalized.length > 0 ? [normalized] : [] };
  // Auto and true differ only in intent: a single sentence comes back as one piece either way.
  return {
    normalized,
    sentences: splitSentences(normalized, { maxChars: options.maxChars, minChars: options.minChars }),
  };
}
