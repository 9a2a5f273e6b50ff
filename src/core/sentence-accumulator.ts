import { InvalidInputError } from '../errors.ts';

/**
 * Collects text that arrives in pieces (an LLM's tokens) and hands out sentences as soon as they are
 * complete, so that speech can start before the text is finished. A sentence counts as complete once
 * the splitter has seen the start of the next one; `flush` hands out the rest at the end.
 */
export class SentenceAccumulator {
  private buffer = '';

  constructor(
    private readonly split: (text: string) => string[],
    /** Longest text held while waiting for a sentence to end. */
    private readonly maxBuffered: number,
  ) {}

  push(text: string): string[] {
    this.buffer += text;
    if (this.buffer.length > this.maxBuffered) {
      throw new InvalidInputError(
        `more than ${this.maxBuffered} characters arrived without a sentence ending (MAX_TEXT_LENGTH): end sentences with punctuation`,
        { code: 'text_too_long', statusCode: 413 },
      );
    }
    const sentences = this.split(this.buffer);
    if (sentences.length < 2) return [];
    const unfinished = sentences[sentences.length - 1];
    const at = this.buffer.lastIndexOf(unfinished);
    this.buffer = at >= 0 ? this.buffer.slice(at) : unfinished;
    return sentences.slice(0, -1);
  }

  flush(): string[] {
    const sentences = this.buffer.trim() === '' ? [] : this.split(this.buffer);
    this.buffer = '';
    return sentences;
  }
}
