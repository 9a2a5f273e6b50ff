/**
 * Splits text into sentences for synthesis, one TTS call each, in Korean, English, Chinese and
 * Japanese. Keeps the punctuation (it shapes the intonation), splits after . ! ? … 。！？ and at
 * every line break, and knows what is not a sentence end: decimals (3.5), abbreviations (Dr., e.g.,
 * U.S.), list numbers at line start ("1."), and an ellipsis inside a sentence ("그건... 잘 모르겠어요";
 * after a Korean final ending, "끝납니다… 그리고", it does end one).
 * Fragments too short to voice well are merged into a neighbour on the same line, but a sentence
 * with its own end mark ("네.") is never a fragment; sentences too long for one call are cut at
 * commas, then clause boundaries, then spaces.
 */

/** Longest sentence sent as one piece; longer ones are cut (about 10–20 s of speech). */
export const DEFAULT_MAX_SENTENCE_CHARS = 150;
/**
 * Shorter fragments ("음", "1.", "Um...") are merged into a neighbour: alone they come out clipped or
 * odd. A short sentence ending in its own . ! ? ("네.", "OK.") is not a fragment and stays alone:
 * it is a complete answer (issue #12). Counted like maxChars, except that a Hangul, Han or kana
 * character counts two (it is a syllable).
 */
export const DEFAULT_MIN_SENTENCE_CHARS = 6;

export interface SplitSentencesOptions {
  /** Cut sentences longer than this many characters (default DEFAULT_MAX_SENTENCE_CHARS). */
  maxChars?: number;
  /**
   * Merge fragments shorter than this into a neighbour on the same line (default
   * DEFAULT_MIN_SENTENCE_CHARS); Hangul, Han and kana characters count two, spaces do not count.
   * Pieces ending in their own . ! ? (not an ellipsis) are never merged.
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
/**
 * A word ending in a Korean final ending: -다 (-니다, -었다), -요, -죠, -네, -구나, -냐. -까 is
 * checked apart: it is also the connective -니까 ("because").
 */
const FINAL_ENDING = /(?:다|요|죠|네|구나|냐)$/;
/** Words that look final but are particles (생각보다, 날마다, 책상에다), nouns (바다, 필요) or 다 ("all"). */
const NOT_FINAL = /(?:보다|마다|에다|바다|필요|중요|주요|수요)$|^다$/;
/** A letter, then an end mark that is not an ellipsis: "네.", "Yes!", "你呢？", "(네, 맞습니다.)". */
const COMPLETE_SENTENCE =
  /\p{L}(?:\.|[.!?。！？‼⁇⁈⁉]*[!?。！？‼⁇⁈⁉][.!?。！？‼⁇⁈⁉]*)["'”’»」』)\]）】〕〉》]*$/u;
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
    const pieces: string[] = [];
    for (const piece of splitLine(line)) {
      const trimmed = piece.trim();
      if (trimmed.length === 0) continue;
      pieces.push(...cutLongSentence(trimmed, maxChars, minChars));
    }
    // Merging stops at the line break: the writer ended the line there, however short it is.
    sentences.push(...mergeShortSentences(pieces, minChars, maxChars));
  }
  return sentences;
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
    if (following === '') return true;
    // After a final ending ("끝납니다… 그리고") the sentence is over and the dots are a trailing-off,
    // unless a quotation particle continues it ("끝났어요…"라고).
    if (endsWithFinalEnding(line.slice(start, index))) {
      const split = /\s/.test(next) || HANGUL_OR_CJK.test(next);
      return split && !QUOTATION_PARTICLE.test(line.slice(end));
    }
    // Anywhere else ("그게… 음", "I waited... and") it is a pause inside the sentence: it ends one
    // only before a capital letter, as before issue #12, since a Korean word after it gives no clue.
    return /\s/.test(next) && UPPERCASE_OR_QUOTE.test(following);
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
  // "No." abbreviates a number only before one (No. 5); otherwise it is the answer "No."
  if (word === 'no') return !/\d/.test(following);
  if (ABBREVIATIONS.has(word)) return false;
  // A single capital letter is an initial (J. K. Rowling).
  if (/^[A-Z]$/.test(token)) return false;
  return true;
}

function endsWithFinalEnding(text: string): boolean {
  const word = LAST_TOKEN.exec(text)?.[1];
  if (word === undefined || NOT_FINAL.test(word)) return false;
  if (FINAL_ENDING.test(word)) return true;
  // -ㄹ까 (할까) and -ㅂ니까 (합니까) ask a question; 니까 after anything else is "because" (오니까).
  if (word.endsWith('니까')) return hasFinalConsonant(word.at(-3), BIEUP);
  return word.endsWith('까') && hasFinalConsonant(word.at(-2), RIEUL);
}

/** Final-consonant (jongseong) numbers of a precomposed Hangul syllable. */
const RIEUL = 8;
const BIEUP = 17;

function hasFinalConsonant(syllable: string | undefined, consonant: number): boolean {
  const code = (syllable ?? '').charCodeAt(0) - 0xac00;
  return code >= 0 && code < 11172 && code % 28 === consonant;
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
    if (previous !== undefined && (isFragment(sentence, minChars) || isFragment(previous, minChars))) {
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

/** Too short to voice alone, and not a complete sentence such as "네." (issue #12). */
function isFragment(text: string, minChars: number): boolean {
  return speechLength(text) < minChars && !COMPLETE_SENTENCE.test(text);
}

function speechLength(text: string): number {
  return text.replace(SPACE, '').length + (text.match(SYLLABIC)?.length ?? 0);
}

function joinSentences(left: string, right: string): string {
  const noSpace = HAN_OR_KANA_AT_END.test(left) && HAN_OR_KANA_AT_START.test(right);
  return noSpace ? left + right : `${left} ${right}`;
}
