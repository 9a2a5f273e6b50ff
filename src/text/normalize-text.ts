import { normalizeEnglish } from './english-normalizer.ts';
import { normalizeKorean } from './korean-normalizer.ts';
import { applyLexicon } from './lexicon.ts';
import { isMostlyHangul, splitSentences } from './split-sentences.ts';

export interface NormalizeOptions {
  /** The seed's language names: Auto, Korean, English, Chinese, Japanese, … */
  language: string;
  /** Per-request readings, e.g. {"Qwen": "큐웬"}; they win over the server-wide lexicon. */
  pronunciations?: Record<string, string>;
  lexicon?: Record<string, string>;
  /** false: only the lexicons apply. */
  normalize?: boolean;
}

/** Which rules apply: Korean for Korean (or Auto with mostly Hangul), English for English and other Auto text. */
function rulesFor(text: string, language: string): 'korean' | 'english' | 'none' {
  const lowered = language.toLowerCase();
  if (lowered === 'korean') return 'korean';
  if (lowered === 'english') return 'english';
  if (lowered === 'auto')
    return isMostlyHangul(text) ? 'korean' : /[\u3040-\u30ff\u4e00-\u9fff]/.test(text) ? 'none' : 'english';
  // Chinese, Japanese and the European languages read digits themselves well enough; leave them alone.
  return 'none';
}

export function normalizeText(text: string, options: NormalizeOptions): string {
  const withReadings = applyLexicon(text.normalize('NFC'), { ...options.lexicon, ...options.pronunciations });
  if (options.normalize === false) return withReadings;
  const rules = rulesFor(withReadings, options.language);
  if (rules === 'korean') return normalizeKorean(withReadings);
  if (rules === 'english') return normalizeEnglish(withReadings);
  return withReadings;
}

/**
 * What will be spoken: normalized text and the sentences it is split into. `split` false keeps one
 * piece; null (auto) splits when there is more than one sentence.
 */
export function prepareSpeechText(
  text: string,
  options: NormalizeOptions & { split?: boolean | null; maxChars?: number; minChars?: number },
): { normalized: string; sentences: string[] } {
  const normalized = normalizeText(text, options).trim();
  if (options.split === false)
    return { normalized, sentences: /[\p{L}\p{N}]/u.test(normalized) ? [normalized] : [] };
  return {
    normalized,
    sentences: splitSentences(normalized, { maxChars: options.maxChars, minChars: options.minChars }),
  };
}
