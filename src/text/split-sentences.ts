/**
 * Splits text into sentences for synthesis, one TTS call each, in Korean, English, Chinese and
 * Japanese. Keeps the punctuation (it shapes the intonation), splits after . ! ? … 。！？ and at
 * line breaks, and knows what is not a sentence end: decimals (3.5), abbreviations (Dr., e.g.,
 * U.S.), list numbers at line start ("1."), and an ellipsis inside a sentence ("그건... 잘 모르겠어요").
 * Fragments too short to voice well are merged into a neighbour; sentences too long for one call
 * are cut at commas, then clause boundaries, then spaces.
 */

/** Longest sentence sent as one piece; longer ones are cut (about 10–20 s of speech). */
export const DEFAULT_MAX_SENTENCE_CHARS = 150;
/**
 * Shorter pieces ("네.", "OK.") are merged into a neighbour: alone they come out clipped or odd.
 * Counted like maxChars, except that a Hangul, Han or kana character counts two (it is a syllable).
 */
export const DEFAULT_MIN_SENTENCE_CHARS = 6;

export interface SplitSentencesOptions {
  /** Cut sentences longer than this many characters (default DEFAULT_MAX_SENTENCE_CHARS). */
  maxChars?: number;
  /**
   * Merge pieces shorter than this into a neighbour (default DEFAULT_MIN_SENTENCE_CHARS); Hangul,
   * Han and kana characters count two, spaces do not count.
   */
  minChars?: number;
}

const LINE_BREAK = /\r\n|[\n\r\u2028\u2029]/;
const TERMINATORS = /[.!?…。！？‼⁇⁈⁉]+/g;
const CLOSERS = /^["'”’»」』)\]）】〕〉》]*/;
const STRONG_TERMINATOR = /[!?。！？‼⁇⁈⁉]/;
const HANGUL_OR_CJK = /[\uAC00-\uD7A3\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF]/;
const HAN_OR_KANA_AT_END = /[\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF][^\p{L}\p{N}]*$/u;
const HAN_OR_KANA_AT_START = /^[^\p{L}\p{N}]*[\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF]/u;
const SYLLABIC = /[\uAC00-\uD7A3\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF]/g;
const SPACE = /\s/g;
/** Korean quotation particles: "정말이야?" 하고 물었다 continues the sentence. */
const QUOTATION_PARTICLE = /^\s*(?:라고|이라고|하고|라며|하며|라는|하는|란|고\s)/;
const UPPERCASE_OR_QUOTE = /[A-Z"“'‘(]/;
const LAST_TOKEN = /(\S+)$/;
const LIST_NUMBER = /^\s*(?:\d{1,3}|[a-zA-Z])$/;
/** Tokens before a dot that never end a sentence (compared in lower case, without the final dot). */
// prettier-ignore
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'vs', 'e.g', 'i.e', 'u.s', 'u.k', 'u.n', 'no', 'fig', 'cf',
  'approx', 'inc', 'ltd', 'co', 'mt', 'gen', 'col', 'capt', 'rev', 'hon', 'a.m', 'p.m', 'vol', 'p', 'pp', 'ed',
]);
/** Abbreviations that end a sentence when a capital letter or non-Latin text follows. */
const SOMETIMES_FINAL_ABBREVIATIONS = new Set(['etc', 'a.m', 'p.m', 'inc', 'ltd', 'co']);

const COMMA_BREAK = /[,，、;；:：](?=\s)|[，、；：]/g;
const KOREAN_CLAUSE_BREAK =
  /(?<=[가-힣])(?:고|며|지만|는데|은데|면서|서|면|니까|거나|므로|도록|다가|든지)(?=\s)/g;
const ENGLISH_CLAUSE_BREAK =
  /\s(?=(?:and|but|which|or|so|because|while|when|where|although|though|who|whereas|yet)\s)/gi;
const WHITESPACE = /\s/g;

/** Splits text into trimmed, non-empty sentences; see the module comment. */
export function splitSentences(text: string, options: SplitSentencesOptions = {}): string[] {
  const maxChars = Math.max(1, options.maxChars ?? DEFAULT_MAX_SENTENCE_CHARS);
  const minChars = Math.max(0, Math.min(options.minChars ?? DEFAULT_MIN_SENTENCE_CHARS, maxChars));
  const sentences: string[] = [];
  for (const line of text.split(LINE_BREAK)) {
    for (const piece of splitLine(line)) {
      const trimmed = piece.trim();
      if (trimmed.length === 0) continue;
      sentences.push(...cutLongSentence(trimmed, maxChars, minChars));
    }
  }
  return mergeShortSentences(sentences, minChars, maxChars);
}

function splitLine(line: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (const match of line.matchAll(TERMINATORS)) {
    const index = match.index ?? 0;
    let end = index + match[0].length;
    end += CLOSERS.exec(line.slice(end))?.[0].length ?? 0;
    if (isSentenceEnd(line, start, index, match[0], end)) {
      pieces.push(line.slice(start, end));
      start = end;
    }
  }
  pieces.push(line.slice(start));
  return pieces;
}

function isSentenceEnd(line: string, start: number, index: number, run: string, end: number): boolean {
  const next = line.charAt(end);
  const following = line.slice(end).trimStart().charAt(0);
  const isEllipsis = !STRONG_TERMINATOR.test(run) && (run.length > 1 || run === '…');
  if (isEllipsis) {
    // An ellipsis ends a sentence only at the end of a line or before a capital letter.
    return following === '' || (/\s/.test(next) && UPPERCASE_OR_QUOTE.test(following));
  }
  // Lower case after the mark (e.g. apples, "Stop!" and left) continues the sentence.
  if (/[a-z]/.test(following)) return false;
  if (end > index + run.length && QUOTATION_PARTICLE.test(line.slice(end))) return false;
  if (next !== '' && !/\s/.test(next)) {
    // Glued to what follows: 3.5, example.com and U.S are not sentence ends; "했다.그리고" is.
    return /[。！？]/.test(run) || HANGUL_OR_CJK.test(next);
  }
  if (STRONG_TERMINATOR.test(run)) return true;
  const token = LAST_TOKEN.exec(line.slice(start, index))?.[1];
  if (token === undefined) return start !== 0;
  if (LIST_NUMBER.test(line.slice(start, index)) && /^\s*$/.test(line.slice(0, start))) return false;
  const word = token.toLowerCase().replace(/^[("'“‘]+/, '');
  if (SOMETIMES_FINAL_ABBREVIATIONS.has(word)) return following === '' || !/[a-z0-9]/.test(following);
  if (ABBREVIATIONS.has(word)) return false;
  // A single capital letter is an initial (J. K. Rowling).
  if (/^[A-Z]$/.test(token)) return false;
  return true;
}

function cutLongSentence(sentence: string, maxChars: number, minChars: number): string[] {
  const pieces: string[] = [];
  let rest = sentence;
  while (rest.length > maxChars) {
    const cut = findCut(rest, maxChars, minChars);
    const head = rest.slice(0, cut).trim();
    if (head.length > 0) pieces.push(head);
    rest = rest.slice(cut).trim();
  }
  if (rest.length > 0) pieces.push(rest);
  return pieces;
}

/** Where to cut a too-long sentence: the last good break that keeps the head within maxChars. */
function findCut(text: string, maxChars: number, minChars: number): number {
  const balancedMinimum = Math.max(minChars, Math.floor(maxChars / 3));
  const levels: ReadonlyArray<readonly [RegExp, 'after' | 'at', number]> = [
    [COMMA_BREAK, 'after', balancedMinimum],
    [KOREAN_CLAUSE_BREAK, 'after', balancedMinimum],
    [ENGLISH_CLAUSE_BREAK, 'at', balancedMinimum],
    [WHITESPACE, 'at', Math.max(1, minChars)],
  ];
  // Only the head can hold the cut; scanning the whole rest each time would be quadratic.
  const window = text.slice(0, maxChars + 2);
  for (const [pattern, side, lowest] of levels) {
    let best = -1;
    for (const match of window.matchAll(pattern)) {
      const index = match.index ?? 0;
      const position = side === 'after' ? index + match[0].length : index;
      if (position > maxChars) break;
      if (position >= lowest && text.length - position >= minChars) best = position;
    }
    if (best > 0) return best;
  }
  // No break at all (Chinese or Japanese without punctuation, one huge token): cut at the limit.
  return maxChars;
}

function mergeShortSentences(sentences: string[], minChars: number, maxChars: number): string[] {
  const merged: string[] = [];
  for (const sentence of sentences) {
    const last = merged.length - 1;
    const previous = merged[last];
    if (previous !== undefined && (speechLength(sentence) < minChars || speechLength(previous) < minChars)) {
      const joined = joinSentences(previous, sentence);
      if (joined.length <= maxChars) {
        merged[last] = joined;
        continue;
      }
    }
    merged.push(sentence);
  }
  return merged;
}

function speechLength(text: string): number {
  return text.replace(SPACE, '').length + (text.match(SYLLABIC)?.length ?? 0);
}

function joinSentences(left: string, right: string): string {
  const noSpace = HAN_OR_KANA_AT_END.test(left) && HAN_OR_KANA_AT_START.test(right);
  return noSpace ? left + right : `${left} ${right}`;
}
