import { readFile } from 'node:fs/promises';

/** Replaces whole terms by their reading; longer terms first so "AI Lab" wins over "AI". */
export function applyLexicon(text: string, lexicon: Record<string, string>): string {
  const terms = Object.keys(lexicon).filter((term) => term.trim() !== '');
  if (terms.length === 0) return text;
  terms.sort((a, b) => b.length - a.length);
  const escaped = terms.map((term) => term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // A term matches whole: not inside a longer Latin word or number (Hangul may follow: 큐웬의).
  const pattern = new RegExp(`(?<![A-Za-z0-9])(?:${escaped.join('|')})(?![A-Za-z0-9])`, 'g');
  return text.replace(pattern, (match) => lexicon[match]);
}

/** Reads a server-wide lexicon: a JSON object of {"term": "reading"}. Problems stop startup clearly. */
export async function loadLexiconFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`PRONUNCIATION_LEXICON_FILE ${file} cannot be read: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`PRONUNCIATION_LEXICON_FILE ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`PRONUNCIATION_LEXICON_FILE ${file} must hold a JSON object like {"Qwen": "큐웬"}`);
  }
  for (const [term, reading] of Object.entries(parsed)) {
    if (typeof reading !== 'string') {
      throw new Error(
        `PRONUNCIATION_LEXICON_FILE ${file}: the reading of ${JSON.stringify(term)} must be a string`,
      );
    }
  }
  return parsed as Record<string, string>;
}
