/**
 * Sentence splitting for Korean, English, Chinese and Japanese text before synthesis. Sentences keep
 * their punctuation. Decimals (3.5), times (10:30), abbreviations (Dr., e.g.), initials, list numbers
 * ("1.") and an ellipsis inside a sentence do not end one; fragments too short to voice well join a
 * neighbour; an over-long sentence is cut at commas, then clause boundaries, then spaces.
 */
export interface SplitOptions {
  /** Longest piece sent to the engine in one go (characters). */
  maxChars?: number;
  /** A piece with fewer letters or digits than this joins its neighbour. */
  minChars?: number;
}

export const DEFAULT_MAX_CHARS = 150;
export const DEFAULT_MIN_CHARS = 4;

const ABBREVIATIONS = new Set(
  [
    'mr',
    'mrs',
    'ms',
    'dr',
    'prof',
    'sr',
    'jr',
    'st',
    'vs',
    'etc',
    'e.g',
    'i.e',
    'u.s',
    'u.k',
    'no',
    'inc',
    'ltd',
    'co',
    'corp',
    'fig',
    'approx',
    'dept',
    'mt',
    'a.m',
    'p.m',
  ].map((word) => word.toLowerCase()),
);

const TERMINATORS = '.!?。！？';
const FULL_WIDTH_TERMINATORS = '。！？';
const CLOSERS = '"\'”’」』)）]】》〉';

function isBoundary(text: string, index: number): boolean {
  const char = text[index];
  if (!TERMINATORS.includes(char)) return false;
  if (FULL_WIDTH_TERMINATORS.includes(char)) return true;
  const next = text[index + 1];
  if (char === '.') {
    // An ellipsis ("...") never ends a sentence here; merging is safer than cutting mid-thought.
    if (text[index - 1] === '.' || next === '.') return false;
    const before = text.slice(0, index);
    const word = /([A-Za-z.]+)$/.exec(before)?.[1] ?? '';
    if (ABBREVIATIONS.has(word.toLowerCase())) return false;
    // Initials ("J. K. Rowling") and list numbers at the start of a line ("1. 자기소개").
    if (/(^|[\s(])[A-Z]$/.test(before)) return false;
    if (/(^|\n)\s*\d{1,3}$/.test(before)) return false;
  }
  // Punctuation runs ("?!", "!!") end at their last mark.
  if (next !== undefined && TERMINATORS.includes(next)) return false;
  // A mark followed directly by a letter or digit ("3.5", "example.com", "Node.js") is not an end.
  let after = index + 1;
  while (after < text.length && CLOSERS.includes(text[after])) after += 1;
  return after >= text.length || /\s/.test(text[after]);
}

/** Cuts at sentence ends and line breaks; keeps punctuation and closing quotes with their sentence. */
function cutSentences(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let index = 0; index < text.length; index += 1) {
    if (text[index] === '\n' || text[index] === '\r') {
      pieces.push(text.slice(start, index));
      start = index + 1;
      continue;
    }
    if (isBoundary(text, index)) {
      let end = index + 1;
      while (end < text.length && CLOSERS.includes(text[end])) end += 1;
      pieces.push(text.slice(start, end));
      start = end;
      index = end - 1;
    }
  }
  pieces.push(text.slice(start));
  return pieces.map((piece) => piece.trim()).filter((piece) => piece !== '');
}

/** Chinese and Japanese sentences follow each other without a space. */
const joinPieces = (first: string, second: string) =>
  /[。！？、，]$/.test(first) || /^[\u3040-\u30ff\u4e00-\u9fff]/.test(second)
    ? `${first}${second}`
    : `${first} ${second}`;

const speakableLength = (text: string) => (text.match(/[\p{L}\p{N}]/gu) ?? []).length;

/** Joins pieces too short to voice well to their neighbour (the previous one, or the next for the first). */
function mergeShort(pieces: string[], minChars: number, maxChars: number): string[] {
  const merged: string[] = [];
  for (const piece of pieces) {
    const previous = merged.at(-1);
    const short = speakableLength(piece) < minChars;
    if (
      previous !== undefined &&
      (short || speakableLength(previous) < minChars) &&
      previous.length + piece.length + 1 <= maxChars
    ) {
      merged[merged.length - 1] = joinPieces(previous, piece);
    } else {
      merged.push(piece);
    }
  }
  return merged.filter((piece) => speakableLength(piece) > 0);
}

const CLAUSE_BREAKS = [
  /[,，、;；:：]\s*/g,
  /(?<=[가-힣](?:고|며|지만|는데|은데|니까|므로|면서|서|면|어서|아서|거나))\s+/g,
  /\s+(?=(?:and|but|or|so|which|because|while|although|whereas)\s)/gi,
  /\s+/g,
];

/** Splits a sentence longer than maxChars at the most natural breaks available. */
function splitLong(sentence: string, maxChars: number, level = 0): string[] {
  if (sentence.length <= maxChars) return [sentence];
  if (level >= CLAUSE_BREAKS.length) {
    const parts: string[] = [];
    for (let start = 0; start < sentence.length; start += maxChars)
      parts.push(sentence.slice(start, start + maxChars));
    return parts;
  }
  const pattern = CLAUSE_BREAKS[level];
  const cuts: string[] = [];
  let last = 0;
  for (const match of sentence.matchAll(pattern)) {
    const end = match.index + match[0].length;
    cuts.push(sentence.slice(last, end).trim());
    last = end;
  }
  cuts.push(sentence.slice(last).trim());
  const pieces = cuts.filter((cut) => cut !== '');
  if (pieces.length === 1) return splitLong(sentence, maxChars, level + 1);
  // Pack consecutive pieces greedily up to maxChars, then split any piece still too long more finely.
  const packed: string[] = [];
  for (const piece of pieces) {
    const previous = packed.at(-1);
    if (previous !== undefined && previous.length + 1 + piece.length <= maxChars)
      packed[packed.length - 1] = `${previous} ${piece}`;
    else packed.push(piece);
  }
  return packed.flatMap((piece) => splitLong(piece, maxChars, level + 1));
}

export function splitSentences(text: string, options: SplitOptions = {}): string[] {
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  const minChars = options.minChars ?? DEFAULT_MIN_CHARS;
  const sentences = cutSentences(text.normalize('NFC'));
  return mergeShort(sentences, minChars, maxChars).flatMap((sentence) => splitLong(sentence, maxChars));
}

/** True when most letters are Hangul (Auto-language texts are treated as Korean then). */
export function isMostlyHangul(text: string): boolean {
  const letters = text.match(/\p{L}/gu) ?? [];
  if (letters.length === 0) return false;
  const hangul = letters.filter((letter) => /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]/.test(letter)).length;
  return hangul / letters.length >= 0.5;
}
