/**
 * Pronunciation lexicons: whole words or terms replaced by how they should be read, before any
 * other normalization. Two sources: a server-wide file (PRONUNCIATION_LEXICON_FILE) and a
 * per-request map; per-request entries win. Matching is case-sensitive first, then
 * case-insensitive. A term that starts or ends with a Latin letter or digit must not touch another
 * one there (so "AI" does not match inside "AIR"); Hangul edges need no boundary, because Korean
 * particles attach to words ("삼성전자는").
 */
import { readFile } from 'node:fs/promises';

import { InvalidInputError } from '../errors.ts';

export type Lexicon = Readonly<Record<string, string>>;

interface CompiledLexicon {
  pattern: RegExp;
  exact: Map<string, string>;
  caseInsensitive: Map<string, string>;
}

const compiledByLexicon = new WeakMap<Lexicon, CompiledLexicon>();
const WORD_EDGE = /[A-Za-z0-9]/;

function escapeForRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function termSource(term: string): string {
  const before = WORD_EDGE.test(term.charAt(0)) ? '(?<![A-Za-z0-9])' : '';
  const after = WORD_EDGE.test(term.charAt(term.length - 1)) ? '(?![A-Za-z0-9])' : '';
  return before + escapeForRegex(term) + after;
}

/** Compiles lexicons, earlier ones winning, into one pattern; compiled single lexicons are cached. */
function compile(lexicons: readonly Lexicon[]): CompiledLexicon | undefined {
  const single = lexicons.length === 1 ? lexicons[0] : undefined;
  const cached = single && compiledByLexicon.get(single);
  if (cached) return cached;
  const exact = new Map<string, string>();
  const caseInsensitive = new Map<string, string>();
  for (const lexicon of lexicons) {
    for (const [term, reading] of Object.entries(lexicon)) {
      if (term.length === 0) continue;
      if (!exact.has(term)) exact.set(term, reading);
    }
  }
  // Case-insensitive entries come after every exact one, in the same per-request-first order.
  for (const lexicon of lexicons) {
    for (const [term, reading] of Object.entries(lexicon)) {
      const key = term.toLowerCase();
      if (term.length > 0 && !caseInsensitive.has(key)) caseInsensitive.set(key, reading);
    }
  }
  if (exact.size === 0) return undefined;
  const terms = [...exact.keys()].sort((left, right) => right.length - left.length);
  const pattern = new RegExp(terms.map(termSource).join('|'), 'giu');
  const compiled = { pattern, exact, caseInsensitive };
  if (single) compiledByLexicon.set(single, compiled);
  return compiled;
}

/**
 * Replaces lexicon terms in the text. `lexicons` are in priority order (per-request first);
 * undefined or empty ones are skipped.
 */
export function applyLexicons(text: string, lexicons: ReadonlyArray<Lexicon | undefined>): string {
  const present = lexicons.filter(
    (lexicon): lexicon is Lexicon => !!lexicon && Object.keys(lexicon).length > 0,
  );
  if (present.length === 0) return text;
  const compiled = compile(present);
  if (!compiled) return text;
  return text.replace(compiled.pattern, (match) => {
    return compiled.exact.get(match) ?? compiled.caseInsensitive.get(match.toLowerCase()) ?? match;
  });
}

/**
 * Reads a lexicon file: a JSON object of {"term": "reading"} with string values.
 * Throws InvalidInputError naming the file and the problem.
 */
export async function loadLexiconFile(path: string): Promise<Record<string, string>> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(error);
    throw new InvalidInputError(
      `cannot read the pronunciation lexicon ${path}: ${reason}; fix PRONUNCIATION_LEXICON_FILE or create the file`,
      { code: 'invalid_lexicon', cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new InvalidInputError(
      `the pronunciation lexicon ${path} is not valid JSON (${(error as Error).message}); expected an object like {"AI": "에이아이"}`,
      { code: 'invalid_lexicon', cause: error },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidInputError(
      `the pronunciation lexicon ${path} must hold a JSON object of {"term": "reading"}, not ${Array.isArray(parsed) ? 'an array' : String(parsed === null ? 'null' : typeof parsed)}`,
      { code: 'invalid_lexicon' },
    );
  }
  const lexicon: Record<string, string> = {};
  for (const [term, reading] of Object.entries(parsed)) {
    if (term.trim().length === 0) {
      throw new InvalidInputError(`the pronunciation lexicon ${path} has an empty term; remove that entry`, {
        code: 'invalid_lexicon',
      });
    }
    if (typeof reading !== 'string') {
      throw new InvalidInputError(
        `the pronunciation lexicon ${path} maps "${term}" to a ${reading === null ? 'null' : typeof reading}; every reading must be a string`,
        { code: 'invalid_lexicon' },
      );
    }
    lexicon[term] = reading;
  }
  return lexicon;
}
