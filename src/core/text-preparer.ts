import type { Config } from '../config.ts';
import { loadLexiconFile, prepareSpeechText } from '../text/index.ts';
import type { TextPreparer } from './speech-service.ts';

/** Normalization + sentence splitting with the server-wide lexicon file (per-request entries win). */
export async function createTextPreparer(config: Config): Promise<TextPreparer> {
  const lexicon = config.PRONUNCIATION_LEXICON_FILE
    ? await loadLexiconFile(config.PRONUNCIATION_LEXICON_FILE)
    : {};
  return {
    prepare(text, options) {
      return prepareSpeechText(text, {
        language: options.language,
        normalize: options.normalize,
        pronunciations: options.pronunciations,
        lexicon,
        split: options.split,
      });
    },
  };
}
