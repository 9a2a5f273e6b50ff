import type { SpeechJob } from '../../core/speech-job.ts';
import type { OpenedSpeech } from '../../core/speech-service.ts';
import type { VoiceLibrary } from '../../core/voice-library.ts';
import { RequestValidationError } from '../errors/request-validation-error.ts';
import type { OpenAiSpeechBody } from '../schemas/openai-schemas.ts';
import { speechJobFromBody } from './speech-job-from-body.ts';

/** The fields of OpenAI's body (and its extensions) that say whose voice to speak in, and how. */
export type OpenAiVoiceFields = Pick<
  OpenAiSpeechBody,
  | 'model'
  | 'voice'
  | 'ref_audio'
  | 'ref_text'
  | 'x_vector_only_mode'
  | 'language'
  | 'seed'
  | 'normalize'
  | 'pronunciations'
>;

export interface ChosenReference {
  ref_audio: string;
  ref_text: string;
  x_vector_only_mode: boolean;
  /** What to report as the voice used. */
  voice: string;
}

/** The reference to clone: a named voice, or ref_audio/ref_text as the seed's endpoint takes them. */
export async function referenceFor(body: OpenAiVoiceFields, voices: VoiceLibrary): Promise<ChosenReference> {
  if (body.ref_audio) {
    const transcript = body.ref_text?.trim() ?? '';
    return {
      ref_audio: body.ref_audio,
      ref_text: transcript,
      x_vector_only_mode: body.x_vector_only_mode ?? transcript === '',
      voice: 'ref_audio',
    };
  }
  if (!body.voice) {
    throw new RequestValidationError([
      {
        type: 'missing',
        loc: ['body', 'voice'],
        msg: 'send voice (a name from GET /v1/audio/voices) or ref_audio with ref_text',
      },
    ]);
  }
  const voice = await voices.find(body.voice);
  return {
    ref_audio: voice.file,
    ref_text: voice.transcript ?? '',
    // Without a transcript the voice is cloned from its timbre (the speaker embedding) alone.
    x_vector_only_mode: body.x_vector_only_mode ?? voice.transcript === undefined,
    voice: voice.name,
  };
}

/** A speech job for `text` in the chosen voice; `seedOffset` keeps sentences of one stream apart. */
export function openAiSpeechJob(
  body: OpenAiVoiceFields,
  text: string,
  reference: ChosenReference,
  seedOffset = 0,
): SpeechJob {
  return speechJobFromBody(
    {
      text,
      language: body.language,
      ref_audio: reference.ref_audio,
      ref_text: reference.ref_text,
      x_vector_only_mode: reference.x_vector_only_mode,
      split_sentences: null,
      seed: body.seed === undefined || body.seed === null ? body.seed : (body.seed + seedOffset) % 2 ** 31,
      generation_params: {},
      normalize: body.normalize,
      pronunciations: body.pronunciations,
    },
    body.model,
    // Every OpenAI-style answer is sent as it is generated (chunked audio, SSE or WebSocket frames).
    { streaming: true },
  );
}

/** The audio of an opened speech stream, part by part. */
export async function* audioOf(opened: OpenedSpeech): AsyncGenerator<Float32Array> {
  for await (const event of opened.events) if (event.type === 'audio') yield event.samples;
}
