import { z } from 'zod';

/* What the speech routes answer, for /openapi.json and the tests that hold the routes to it. */

const base64Wav = z.string().describe('A complete WAV file (24 kHz mono, 16-bit), base64');
const warnings = z
  .array(z.string())
  .describe('Why the reference may clone badly: clipping, a low level, noise, too little speech');

/** /tts/voice_clone with a list of texts. */
export const voiceCloneListSchema = z.object({
  success: z.literal(true),
  message: z.string(),
  sample_rate: z.number().int(),
  audio_count: z.number().int(),
  audio_data: z.array(base64Wav).describe('One WAV per text, in order'),
  generation_time: z.number().describe('Seconds'),
  reference_warnings: warnings,
});

/** The data of /tts/voice_clone/sse's events. */
export const ttsSseEvents = {
  meta: z.object({
    status: z.literal('generating'),
    text: z.union([z.string(), z.array(z.string())]),
    sentences: z
      .union([z.array(z.string()), z.array(z.array(z.string()))])
      .describe('The sentences that will be spoken (one list per text when text is a list)'),
    seed: z.number().int(),
    reference_warnings: warnings,
  }),
  audio: z.object({
    chunk_index: z.number().int(),
    audio: base64Wav,
    sample_rate: z.number().int(),
    generation_time: z.number().describe('Seconds this chunk took'),
    item_index: z.number().int().describe('Which text (0 for a single string)'),
    sentence_index: z.number().int().optional().describe('With streaming=true'),
    sentence: z.string().optional().describe('With streaming=true'),
  }),
  done: z.object({ total_time: z.number(), total_chunks: z.number().int() }),
};

export const normalizeResultSchema = z.object({
  normalized: z.string().describe('The text as it will be spoken'),
  sentences: z.array(z.string()).describe('How it will be split'),
});

/** A voice as GET /v1/audio/voices lists it. */
export const listedVoiceSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  file: z.string().describe('The audio file in REF_AUDIO_DIR'),
  has_transcript: z.boolean().describe('A .txt beside it: cloned in ICL mode, otherwise from the embedding'),
  ref_text: z.string().optional().describe('The transcript, when there is one'),
});

export const voiceListSchema = z.object({ voices: z.array(listedVoiceSchema) });

/** The data of /v1/audio/speech's events with stream_format=sse (no event names, as OpenAI sends). */
export const openAiSseEvents = {
  'speech.audio.delta': z.object({
    type: z.literal('speech.audio.delta'),
    audio: z.string().describe('The next bytes of the encoded audio (response_format), base64'),
  }),
  'speech.audio.done': z.object({
    type: z.literal('speech.audio.done'),
    usage: z.object({ input_characters: z.number().int(), output_bytes: z.number().int() }),
  }),
};
