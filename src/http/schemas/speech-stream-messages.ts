import { z } from 'zod';
import { SPEECH_FORMATS } from '../../media/speech-encoder.ts';
import { openAiSpeechBodySchema } from './openai-schemas.ts';

/*
 * The JSON messages of WS /v1/audio/speech/stream as /openapi.json describes them. The session reads
 * its messages with speech-stream-protocol.ts, which builds them; these only document them.
 */

const place = {
  utterance_index: z.number().int().describe('Which utterance (what one input.done ended), from 0'),
  sentence_index: z.number().int().describe('The sentence’s place in its utterance, from 0'),
};

/**
 * session.config's fields: whose voice and how, as POST /v1/audio/speech takes it, less the text. The
 * session parses them (speech-stream-protocol.ts adds vLLM-Omni's aliases and the voice check).
 */
export const sessionConfigFields = openAiSpeechBodySchema
  .omit({ input: true, stream_format: true, instructions: true })
  .extend({
    response_format: z
      .enum(SPEECH_FORMATS, { error: () => `response_format must be one of: ${SPEECH_FORMATS.join(', ')}` })
      .default('wav'),
    // vLLM-Omni's switch: chunks while a sentence is generated, or the whole sentence in one message.
    stream_audio: z
      .boolean({ error: () => 'stream_audio must be true or false' })
      .default(false)
      .describe(
        'true: binary frames while a sentence is generated (lowest latency); false: one per sentence',
      ),
  });

export const clientMessages = {
  'session.config': sessionConfigFields.extend({
    type: z.literal('session.config'),
    speaker: z.string().optional().describe('vLLM-Omni’s name for voice (voice wins when both come)'),
  }),
  'input.text': z.object({
    type: z.literal('input.text'),
    text: z.string().describe('The next piece of text'),
  }),
  'input.done': z.object({ type: z.literal('input.done') }),
  'input.cancel': z.object({ type: z.literal('input.cancel') }),
  'session.close': z.object({ type: z.literal('session.close') }),
};

export const serverMessages = {
  'audio.start': z.object({
    type: z.literal('audio.start'),
    ...place,
    sentence_text: z.string(),
    format: z.enum(SPEECH_FORMATS),
    sample_rate: z.number().int().optional().describe('Left out when the sentence failed before its audio'),
    channels: z.literal(1).optional(),
    reference_warnings: z.array(z.string()).optional(),
  }),
  'audio.done': z.object({
    type: z.literal('audio.done'),
    ...place,
    total_bytes: z.number().int().describe('Bytes of audio sent for this sentence'),
    error: z.boolean().describe('The sentence failed (an error message came before this)'),
  }),
  'session.done': z.object({
    type: z.literal('session.done'),
    utterance_index: place.utterance_index,
    total_sentences: z.number().int(),
  }),
  'input.cancelled': z.object({
    type: z.literal('input.cancelled'),
    utterance_index: place.utterance_index,
    next_sentence_index: z.number().int(),
  }),
  error: z.object({
    type: z.literal('error'),
    message: z.string().describe('vLLM-Omni’s field; the same text as detail'),
    detail: z.string(),
    code: z.string(),
    status_code: z.number().int(),
    partial_audio: z.literal(true).optional().describe('Some of the failed sentence’s audio was sent'),
    action: z.literal('discard').optional().describe('That audio is to be discarded'),
  }),
};
