import { z } from 'zod';
import { streamErrorSchema } from '../schemas/error-schemas.ts';
import { openAiSseEvents, voiceListSchema } from '../schemas/speech-response-schemas.ts';
import { CONTENT_TYPES } from '../../media/speech-encoder.ts';
import { BINARY, eventStream, example, json } from './responses.ts';
import type { DocMedia, RouteDocs } from './route-docs.ts';
import { speechErrors } from './speech-errors.ts';
import { SEED_EXAMPLE, SPEECH_HEADERS } from './tts-docs.ts';

export const voiceListDocs: RouteDocs = {
  openAiErrors: true,
  responses: {
    200: json(
      'The named voices: audio files in REF_AUDIO_DIR, each with its transcript if any',
      voiceListSchema,
      {
        voices: [
          {
            id: 'interviewer',
            name: 'interviewer',
            file: 'interviewer.mp3',
            has_transcript: true,
            ref_text: SEED_EXAMPLE.ref_text,
          },
        ],
      },
    ),
  },
};

const SSE_EXAMPLE = [
  'data: {"type":"speech.audio.delta","audio":"SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjYwLjMuMTAw"}',
  '',
  'data: {"type":"speech.audio.done","usage":{"input_characters":38,"output_bytes":18432}}',
  '',
  '',
].join('\n');

/** One audio media type per response_format, each streamed as it is encoded. */
const AUDIO_CONTENT: Record<string, DocMedia> = Object.fromEntries(
  Object.entries(CONTENT_TYPES).map(([format, type]) => [
    type,
    { schema: { ...BINARY, description: `response_format=${format}` } },
  ]),
);

export const speechDocs: RouteDocs = {
  openAiErrors: true,
  bodyExamples: {
    voice: example(
      { model: 'tts-1', input: SEED_EXAMPLE.text, voice: 'interviewer', response_format: 'mp3' },
      'A named voice (GET /v1/audio/voices)',
    ),
    reference: example(
      {
        model: 'tts-1',
        input: SEED_EXAMPLE.text,
        language: SEED_EXAMPLE.language,
        ref_audio: SEED_EXAMPLE.ref_audio,
        ref_text: SEED_EXAMPLE.ref_text,
        response_format: 'wav',
      },
      'A reference as /tts/voice_clone takes it, instead of a voice',
    ),
    sse: example(
      {
        model: 'tts-1',
        input: SEED_EXAMPLE.text,
        voice: 'interviewer',
        response_format: 'pcm',
        stream_format: 'sse',
      },
      'Server-Sent Events of base64 PCM',
    ),
  },
  responses: {
    200: {
      description:
        'The audio in response_format, streamed as it is generated (the first bytes after the first ' +
        'sentence’s first chunk); with stream_format=sse, Server-Sent Events instead. A failure after the ' +
        'audio started cuts the connection (audio) or sends an `error` event (sse).',
      content: {
        ...AUDIO_CONTENT,
        'text/event-stream': eventStream(
          'stream_format=sse: data-only frames (OpenAI’s style: the JSON names its own type).',
          {
            'speech.audio.delta': {
              description: 'the next piece of the encoded audio',
              data: openAiSseEvents['speech.audio.delta'],
            },
            'speech.audio.done': {
              description: 'last, with the usage',
              data: openAiSseEvents['speech.audio.done'],
            },
            error: {
              description: 'generation failed after the stream started; it ends',
              data: z.object({ type: z.literal('error'), error: streamErrorSchema }),
            },
          },
          SSE_EXAMPLE,
        ),
      },
      headers: {
        ...SPEECH_HEADERS,
        'X-Voice': { description: 'The voice spoken in (URI-encoded)', schema: { type: 'string' } },
        'X-Sample-Rate': { description: 'Hz; what pcm must be played at', schema: { type: 'integer' } },
        'X-Ignored': {
          description: 'Settings that were accepted but not followed (instructions)',
          schema: { type: 'string' },
        },
      },
    },
    ...speechErrors(true, {
      404: 'voice names no voice in REF_AUDIO_DIR (GET /v1/audio/voices), or ref_audio names no file',
    }),
  },
};
