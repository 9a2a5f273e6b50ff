import { streamErrorSchema } from '../schemas/error-schemas.ts';
import { ttsSseEvents, voiceCloneListSchema } from '../schemas/speech-response-schemas.ts';
import { BINARY, eventStream, example } from './responses.ts';
import type { DocExample, DocHeader, RouteDocs } from './route-docs.ts';
import { speechErrors } from './speech-errors.ts';

/** The seed guide's request, as its curl sends it. */
export const SEED_EXAMPLE = {
  text: '안녕하세요. AI 면접관입니다. 먼저 간단히 자기소개를 부탁드립니다.',
  language: 'Korean',
  ref_audio: 'sample(1).mp3',
  ref_text: '안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.',
};

const VOICE_CLONE_EXAMPLES: Record<string, DocExample> = {
  seed: example(SEED_EXAMPLE, 'The seed guide’s request: one text → audio/wav'),
  list: example(
    { ...SEED_EXAMPLE, text: ['첫 번째 질문입니다.', '두 번째 질문입니다.'] },
    'A list of texts → JSON with one base64 WAV each',
  ),
  repeatable: example(
    {
      ...SEED_EXAMPLE,
      seed: 42,
      generation_params: { temperature: 0.7, top_p: 0.9 },
      pronunciations: { AI: '에이아이' },
    },
    'A fixed seed and settings: the same audio every time (and cached: X-Cache: hit)',
  ),
};

export const SPEECH_HEADERS: Record<string, DocHeader> = {
  'X-Seed': {
    description: 'The seed used (sentence i is generated with seed + i)',
    schema: { type: 'integer' },
  },
  'X-Reference-Warnings': {
    description: 'URI-encoded, |-separated advice on the reference (clipping, noise, too little speech)',
    schema: { type: 'string' },
  },
  'X-Cache': {
    description: '`hit` when replayed from an identical earlier request',
    schema: { type: 'string' },
  },
  'X-Queue-Position': {
    description:
      'Where the request stood in line for the engine when it arrived: 0 when a slot was free, n when it was n-th',
    schema: { type: 'integer' },
  },
  'X-Queue-Wait': { description: 'Seconds it waited for the engine', schema: { type: 'number' } },
  'X-Queue-Turns': {
    description:
      '`<arrival>-<given>`: the engine’s turn counter when the request arrived and the turn it was given. ' +
      'The line is fair between clients: a later request may go ahead only from a client whose last turn ' +
      'was earlier, so while a request waits no other client gets more turns than its own client has requests waiting',
    schema: { type: 'string' },
  },
};

export const voiceCloneDocs: RouteDocs = {
  bodyExamples: VOICE_CLONE_EXAMPLES,
  responses: {
    200: {
      description:
        'A string `text`: one WAV (24 kHz, mono, 16-bit). A list: JSON with one base64 WAV per text.',
      content: {
        'audio/wav': { schema: BINARY },
        'application/json': {
          schema: voiceCloneListSchema,
          example: {
            success: true,
            message: 'Generated 2 audio(s)',
            sample_rate: 24000,
            audio_count: 2,
            audio_data: ['UklGRiQAAABXQVZFZm10IBAAAAABAAEAwF0AAIC7AAACABAAZGF0YQAAAAA=', 'UklGRi…'],
            generation_time: 1.234,
            reference_warnings: [],
          },
        },
      },
      headers: {
        'X-Generation-Time': { description: 'Seconds the generation took', schema: { type: 'number' } },
        ...SPEECH_HEADERS,
        'Content-Disposition': {
          description: '`attachment; filename=output.wav` (audio only)',
          schema: { type: 'string' },
        },
      },
    },
    ...speechErrors(),
  },
};

const SSE_EXAMPLE = [
  'event: meta',
  'data: {"status":"generating","text":"첫 문장입니다. 두 번째 문장입니다.","sentences":["첫 문장입니다.","두 번째 문장입니다."],"seed":123,"reference_warnings":[]}',
  '',
  'event: audio',
  'data: {"chunk_index":0,"audio":"<base64 WAV>","sample_rate":24000,"generation_time":0.41,"item_index":0,"sentence_index":0,"sentence":"첫 문장입니다."}',
  '',
  'event: done',
  'data: {"total_time":1.9,"total_chunks":4}',
  '',
  '',
].join('\n');

export const voiceCloneSseDocs: RouteDocs = {
  bodyExamples: { seed: VOICE_CLONE_EXAMPLES.seed },
  responses: {
    200: {
      description:
        'Server-Sent Events. Bad input is a plain 4xx before the stream starts; a failure after that is an ' +
        '`error` event, and the stream ends. A client that disconnects cancels generation. Comment lines ' +
        '(`: keep-alive`) keep idle proxies from closing the stream.',
      content: {
        'text/event-stream': eventStream(
          'The audio as it is generated.',
          {
            meta: {
              description: 'first: the sentences that will be spoken and the seed',
              data: ttsSseEvents.meta,
            },
            audio: {
              description:
                'a chunk as soon as it is generated (streaming=true), or one per text after generation ' +
                '(streaming=false); each a complete WAV to play back to back',
              data: ttsSseEvents.audio,
            },
            done: { description: 'last, when all audio was sent', data: ttsSseEvents.done },
            error: {
              description: 'generation failed after the stream started; it ends',
              data: streamErrorSchema,
            },
          },
          SSE_EXAMPLE,
        ),
      },
      headers: SPEECH_HEADERS,
    },
    ...speechErrors(),
  },
};
