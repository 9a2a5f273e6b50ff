import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The Qwen2 byte-level BPE tokenizer, built from a checkpoint's vocab.json, merges.txt and
 * tokenizer_config.json. As Hugging Face's tokenizer does: NFC first, added (special) tokens matched
 * whole before anything else, the Qwen2 pre-tokenizer pattern, GPT-2's byte-to-character mapping,
 * then merges by rank.
 */

/** GPT-2's reversible mapping of the 256 byte values to printable characters. */
export const BYTE_TO_CHARACTER: string[] = (() => {
  const printable: number[] = [];
  for (let byte = 33; byte <= 126; byte += 1) printable.push(byte);
  for (let byte = 161; byte <= 172; byte += 1) printable.push(byte);
  for (let byte = 174; byte <= 255; byte += 1) printable.push(byte);
  const characters = new Array<string>(256);
  let extra = 0;
  for (let byte = 0; byte < 256; byte += 1) {
    if (printable.includes(byte)) characters[byte] = String.fromCharCode(byte);
    else characters[byte] = String.fromCharCode(256 + extra++);
  }
  return characters;
})();

/** The byte order GPT-2 vocabularies use for their first 256 ids. */
export const BYTE_ORDER: number[] = (() => {
  const order: number[] = [];
  for (let byte = 33; byte <= 126; byte += 1) order.push(byte);
  for (let byte = 161; byte <= 172; byte += 1) order.push(byte);
  for (let byte = 174; byte <= 255; byte += 1) order.push(byte);
  for (let byte = 0; byte < 256; byte += 1) if (!order.includes(byte)) order.push(byte);
  return order;
})();

const CHARACTER_TO_BYTE = new Map(BYTE_TO_CHARACTER.map((character, byte) => [character, byte]));

/**
 * How text is split into words before BPE. `qwen2` is Qwen2's own pattern (JavaScript has no inline
 * (?i:), so the contractions list both cases). `mistral-fix` is the pattern transformers ≥ 4.57.3
 * puts in its place when a tokenizer is loaded with `fix_mistral_regex=True` and its checkpoint's
 * config.json is not marked as saved by transformers ≤ 4.57.2: the official Qwen3-TTS processor asks
 * for that flag, so the official pipeline splits CamelCase ("TypeScript" → "Type", "Script") and keeps
 * contractions whole. The exporter records which one the official code really used.
 */
export const SPLIT_PATTERNS = {
  qwen2:
    /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
  'mistral-fix':
    /[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu,
} as const;
export type SplitPattern = keyof typeof SPLIT_PATTERNS;

export interface TokenizerData {
  vocab: Record<string, number>;
  merges: string[];
  addedTokens: { content: string; id: number; special: boolean }[];
}

export class Qwen2Tokenizer {
  private readonly ranks = new Map<string, number>();
  private readonly idToToken = new Map<number, string>();
  private readonly added = new Map<string, number>();
  private readonly addedPattern: RegExp | undefined;
  private readonly cache = new Map<string, number[]>();
  private readonly split: RegExp;

  constructor(
    private readonly data: TokenizerData,
    splitPattern: SplitPattern = 'qwen2',
  ) {
    this.split = SPLIT_PATTERNS[splitPattern];
    data.merges.forEach((merge, rank) => this.ranks.set(merge, rank));
    for (const [token, tokenId] of Object.entries(data.vocab)) this.idToToken.set(tokenId, token);
    for (const token of data.addedTokens) {
      this.added.set(token.content, token.id);
      this.idToToken.set(token.id, token.content);
    }
    const contents = [...this.added.keys()]
      .sort((a, b) => b.length - a.length)
      .map((content) => content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.addedPattern = contents.length > 0 ? new RegExp(`(${contents.join('|')})`) : undefined;
  }

  static async fromDirectory(
    directory: string,
    splitPattern: SplitPattern = 'qwen2',
  ): Promise<Qwen2Tokenizer> {
    const read = (name: string) => readFile(path.join(directory, name), 'utf8');
    const vocab = JSON.parse(await read('vocab.json')) as Record<string, number>;
    const merges = (await read('merges.txt'))
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#version'));
    const config = JSON.parse(await read('tokenizer_config.json')) as {
      added_tokens_decoder?: Record<string, { content: string; special?: boolean }>;
    };
    const addedTokens = Object.entries(config.added_tokens_decoder ?? {}).map(([tokenId, token]) => ({
      content: token.content,
      id: Number(tokenId),
      special: token.special ?? false,
    }));
    return new Qwen2Tokenizer({ vocab, merges, addedTokens }, splitPattern);
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    const pieces = this.addedPattern
      ? text.normalize('NFC').split(this.addedPattern)
      : [text.normalize('NFC')];
    for (const piece of pieces) {
      if (piece === '') continue;
      const added = this.added.get(piece);
      if (added !== undefined) {
        ids.push(added);
        continue;
      }
      for (const match of piece.matchAll(this.split)) ids.push(...this.encodeWord(match[0]));
    }
    return ids;
  }

  decode(ids: number[]): string {
    const bytes: number[] = [];
    let text = '';
    const flush = () => {
      text += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    };
    for (const tokenId of ids) {
      const token = this.idToToken.get(tokenId);
      if (token === undefined) continue;
      if (this.added.has(token)) {
        flush();
        text += token;
      } else for (const character of token) bytes.push(CHARACTER_TO_BYTE.get(character) ?? 63);
    }
    flush();
    return text;
  }

  tokenId(token: string): number {
    const found = this.added.get(token) ?? this.data.vocab[token];
    if (found === undefined) throw new Error(`the tokenizer has no token ${JSON.stringify(token)}`);
    return found;
  }

  private encodeWord(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached) return cached;
    let parts = [...Buffer.from(word, 'utf8')].map((byte) => BYTE_TO_CHARACTER[byte]);
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let index = 0; index < parts.length - 1; index += 1) {
        const rank = this.ranks.get(`${parts[index]} ${parts[index + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = index;
        }
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    const ids = parts.map((part) => {
      const tokenId = this.data.vocab[part];
      if (tokenId === undefined) throw new Error(`the vocabulary has no entry for ${JSON.stringify(part)}`);
      return tokenId;
    });
    if (this.cache.size < 50000) this.cache.set(word, ids);
    return ids;
  }
}

/** The special tokens of Qwen3-TTS checkpoints, with their real ids. */
export const QWEN3_SPECIAL_TOKENS = [
  { content: '<|im_start|>', id: 151644 },
  { content: '<|im_end|>', id: 151645 },
  { content: '<|tts_pad|>', id: 151671 },
  { content: '<|tts_text_bos|>', id: 151672 },
  { content: '<|tts_text_eod|>', id: 151673 },
];

/**
 * Writes a small but valid tokenizer: the 256 byte tokens at GPT-2's ids (so "\n" is 198), the merges
 * that make "assistant" the single token 77091 as in the real vocabulary, a few common merges, and the
 * special tokens with their real ids.
 */
export async function writeSyntheticTokenizer(directory: string): Promise<void> {
  const vocab: Record<string, number> = {};
  BYTE_ORDER.forEach((byte, index) => (vocab[BYTE_TO_CHARACTER[byte]] = index));
  const merges: string[] = [];
  let nextId = 256;
  const addMerge = (left: string, right: string, forcedId?: number) => {
    merges.push(`${left} ${right}`);
    vocab[left + right] = forcedId ?? nextId++;
  };
  const word = 'assistant';
  for (let length = 2; length <= word.length; length += 1) {
    addMerge(word.slice(0, length - 1), word[length - 1], length === word.length ? 77091 : undefined);
  }
  const space = BYTE_TO_CHARACTER[32];
  for (const [left, right] of [
    [space, 't'],
    ['h', 'e'],
    [`${space}t`, 'he'],
    ['i', 'n'],
    [space, 'a'],
  ])
    addMerge(left, right);
  await mkdir(directory, { recursive: true });
  await writeFile(path.join(directory, 'vocab.json'), JSON.stringify(vocab));
  await writeFile(path.join(directory, 'merges.txt'), `#version: 0.2\n${merges.join('\n')}\n`);
  const decoder = Object.fromEntries(
    QWEN3_SPECIAL_TOKENS.map((token) => [String(token.id), { content: token.content, special: true }]),
  );
  await writeFile(
    path.join(directory, 'tokenizer_config.json'),
    JSON.stringify({ added_tokens_decoder: decoder }, null, 1),
  );
}
