import { randomInt } from 'node:crypto';
import type { SpeechItem, SpeechJob } from '../../core/speech-job.ts';
import type { ModelKey } from '../../engines/interfaces/tts-engine.ts';
import { RequestValidationError } from '../errors/request-validation-error.ts';
import type { GenerationParams, VoiceCloneBody } from '../schemas/tts-schemas.ts';

/** `?model_size=` → model key; the seed silently fell back to 1.7B for anything else, we validate. */
export function modelKeyForSize(size: '0.6b' | '1.7b'): ModelKey {
  return size === '1.7b' ? 'base_1.7b' : 'base_0.6b';
}

/**
 * Turns the seed's body into a SpeechJob. A list `text` may come with one shared ref_audio/ref_text or
 * with lists of the same length; anything else is a 422 in FastAPI's shape.
 */
export function speechJobFromBody(
  body: VoiceCloneBody,
  model: ModelKey,
  options: { streaming: boolean },
): SpeechJob {
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
  // The seed takes a language per text as well as one for all.
  const languages =
    Array.isArray(body.language) && body.language.length > 1
      ? spread(body.language, texts.length, 'language')
      : undefined;
  const items: SpeechItem[] = texts.map((text, index) => ({
    text,
    referenceAudio: audios[index],
    referenceText: transcripts[index],
    ...(languages ? { language: languages[index] } : {}),
  }));
  return {
    model,
    items,
    language: Array.isArray(body.language) ? body.language[0] : body.language,
    xVectorOnly: body.x_vector_only_mode,
    splitSentences: body.split_sentences,
    seed: body.seed ?? randomInt(0, 2 ** 31 - 1),
    repeatable: body.seed !== undefined && body.seed !== null,
    sampling: samplingFromParameters(body.generation_params),
    streaming: options.streaming,
    normalize: body.normalize,
    pronunciations: body.pronunciations,
  };
}

/** generation_params → engine settings; what the client left out stays unset (the model's default). */
export function samplingFromParameters(parameters: GenerationParams): SpeechJob['sampling'] {
  const subtalker = {
    doSample: parameters.subtalker_dosample,
    topK: parameters.subtalker_top_k,
    topP: parameters.subtalker_top_p,
    temperature: parameters.subtalker_temperature,
  };
  return withoutUndefined({
    maxNewTokens: parameters.max_new_tokens,
    temperature: parameters.temperature,
    topK: parameters.top_k,
    topP: parameters.top_p,
    repetitionPenalty: parameters.repetition_penalty,
    doSample: parameters.do_sample,
    subtalker: Object.values(subtalker).some((value) => value !== undefined)
      ? withoutUndefined(subtalker)
      : undefined,
  });
}

/** Leaves unset fields out, so that equal settings serialize equally (cache keys). */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

function spread<T extends string>(value: T | T[], count: number, field: string): T[] {
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
