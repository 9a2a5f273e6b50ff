import { randomInt } from 'node:crypto';
import type { SpeechItem, SpeechJob } from '../core/speech-job.ts';
import type { ModelKey } from '../engines/spec/tts-engine.ts';
import { RequestValidationError } from './request-validation-error.ts';
import type { VoiceCloneBody } from './schemas/tts-schemas.ts';

/** `?model_size=` → model key; the seed silently fell back to 1.7B for anything else, we validate. */
export function modelKeyForSize(size: '0.6b' | '1.7b'): ModelKey {
  return size === '1.7b' ? 'base_1.7b' : 'base_0.6b';
}

/**
 * Turns the seed's body into a SpeechJob. A list `text` may come with one shared ref_audio/ref_text or
 * with lists of the same length; anything else is a 422 in FastAPI's shape.
 */
export function speechJobFromBody(body: VoiceCloneBody, model: ModelKey): SpeechJob {
  const texts = typeof body.text === 'string' ? [body.text] : body.text;
  const audios = spread(body.ref_audio, texts.length, 'ref_audio');
  const transcripts = spread(body.ref_text ?? '', texts.length, 'ref_text');
  if (!body.x_vector_only_mode) {
    transcripts.forEach((transcript, index) => {
      if (transcript.trim() === '') {
        throw new RequestValidationError([
          {
            type: 'missing',
            loc: Array.isArray(body.ref_text) ? ['body', 'ref_text', index] : ['body', 'ref_text'],
            msg: 'ref_text is required (the transcript of ref_audio) unless x_vector_only_mode is true',
            input: body.ref_text ?? null,
          },
        ]);
      }
    });
  }
  audios.forEach((audio, index) => {
    if (audio.trim() === '') {
      throw new RequestValidationError([
        {
          type: 'string_too_short',
          loc: Array.isArray(body.ref_audio) ? ['body', 'ref_audio', index] : ['body', 'ref_audio'],
          msg: 'ref_audio is empty: send a file name inside REF_AUDIO_DIR, an http(s) URL, or base64 audio',
          input: audio,
        },
      ]);
    }
  });
  const items: SpeechItem[] = texts.map((text, index) => ({
    text,
    referenceAudio: audios[index],
    referenceText: transcripts[index],
  }));
  const parameters = body.generation_params;
  return {
    model,
    items,
    language: body.language,
    xVectorOnly: body.x_vector_only_mode,
    splitSentences: body.split_sentences,
    seed: body.seed ?? randomInt(0, 2 ** 31 - 1),
    repeatable: body.seed !== undefined && body.seed !== null,
    sampling: {
      maxNewTokens: parameters.max_new_tokens,
      temperature: parameters.temperature,
      topK: parameters.top_k,
      topP: parameters.top_p,
      repetitionPenalty: parameters.repetition_penalty,
      // A temperature of 0 means "no randomness": greedy, instead of a division by zero.
      doSample: parameters.do_sample && parameters.temperature > 0,
    },
    normalize: body.normalize,
    pronunciations: body.pronunciations,
  };
}

function spread(value: string | string[], count: number, field: string): string[] {
  if (typeof value === 'string') return Array.from({ length: count }, () => value);
  if (value.length === count) return value;
  throw new RequestValidationError([
    {
      type: 'list_length_mismatch',
      loc: ['body', field],
      msg: `${field} has ${value.length} items but text has ${count}: send one ${field} for all, or one per text`,
      input: value,
    },
  ]);
}
