// Temporary minimal text module so the HTTP layer can be exercised; replaced by the full splitter and normalizer.
export function prepareSpeechText(
  text: string,
  options: {
    language: string;
    normalize?: boolean;
    pronunciations?: Record<string, string>;
    lexicon?: Record<string, string>;
    split?: boolean | null;
  },
): { normalized: string; sentences: string[] } {
  let normalized = text.trim();
  for (const [word, reading] of Object.entries({ ...options.lexicon, ...options.pronunciations }))
    normalized = normalized.split(word).join(reading);
  const sentences =
    options.split === false
      ? [normalized]
      : normalized.split(/(?<=[.!?。！？])\s+/).filter((s) => /[\p{L}\p{N}]/u.test(s));
  void options.language;
  return { normalized, sentences };
}
export async function loadLexiconFile(_path: string): Promise<Record<string, string>> {
  return {};
}
