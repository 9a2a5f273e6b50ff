import { z } from 'zod';
import { clientMessages, serverMessages } from '../schemas/speech-stream-messages.ts';
import { BINARY } from './responses.ts';
import type { RouteDocs } from './route-docs.ts';
import { SEED_EXAMPLE } from './tts-docs.ts';

/** The operation's description: the protocol, as the README's "Text that is still being written". */
export const SPEECH_STREAM_DESCRIPTION = [
  '**WebSocket** (`ws://` or `wss://`): text in as an LLM writes it, speech out sentence by sentence, in ' +
    'vLLM-Omni’s protocol (its `streaming_speech_client.py` works unchanged). This GET is the upgrade ' +
    'request; the messages are listed in the `x-websocket` extension of this operation.',
  '',
  'Client → server (JSON text messages):',
  '- `{"type": "session.config", …}`: the voice and format, with the fields of POST /v1/audio/speech ' +
    'less `input` (`wav` by default; `speaker` is taken for `voice`); `"stream_audio": true` for the lowest latency.',
  '- `{"type": "input.text", "text": "…"}`: the next piece of text; each complete sentence is spoken at once.',
  '- `{"type": "input.done"}`: ends an utterance (not the session); more may follow, after another ' +
    'session.config if the voice should change.',
  '- `{"type": "input.cancel"}`: the listener interrupts: stops the sentence being spoken, drops the queued ' +
    'ones and the buffered text; answered with `input.cancelled`.',
  '- `{"type": "session.close"}`: ends the session once the audio asked for has been sent.',
  '',
  'Server → client, for each sentence: `audio.start`, its audio as **binary** messages (chunks while it ' +
    'is generated with stream_audio, otherwise one message, a whole file for wav), then `audio.done`; after ' +
    'each utterance `session.done`. Errors are `{"type": "error", "message", "detail", "code"}`: once ' +
    'configured, a bad message is refused and the session goes on; a failed sentence is reported ' +
    '(`partial_audio: true, action: "discard"` if some of its audio was sent) and its audio.done says ' +
    '`error: true`.',
  '',
  'Close codes: 1000 after session.close; 1008 for anything wrong before the first session.config, a ' +
    'voice that is not here, STREAM_SESSION_MAX_TEXT exceeded, or STREAM_IDLE_TIMEOUT_S of silence; 1009 ' +
    'for a message over 1 MB; 1011 for a server failure; 1013 when STREAM_MAX_SESSIONS are open (try ' +
    'again later). With API_KEY set, send it as a header or as `?api_key=` (browsers cannot set headers).',
].join('\n');

export const speechStreamDocs: RouteDocs = {
  query: z.object({
    api_key: z
      .string()
      .optional()
      .describe('The API_KEY, for clients that cannot set headers on a WebSocket (browsers)'),
  }),
  websocket: {
    summary: 'vLLM-Omni’s streaming speech protocol, plus input.cancel',
    client: {
      'session.config': {
        description: 'First, and between utterances: the voice and the audio format',
        schema: clientMessages['session.config'],
        example: { type: 'session.config', voice: 'interviewer', response_format: 'pcm', stream_audio: true },
      },
      'input.text': {
        description: 'Text as it is written; sentences are spoken as soon as they are complete',
        schema: clientMessages['input.text'],
        example: { type: 'input.text', text: SEED_EXAMPLE.text.slice(0, 12) },
      },
      'input.done': {
        description: 'The utterance is complete: its last sentence is spoken, then session.done',
        schema: clientMessages['input.done'],
        example: { type: 'input.done' },
      },
      'input.cancel': {
        description: 'Stop speaking and drop what is queued (the session stays open)',
        schema: clientMessages['input.cancel'],
        example: { type: 'input.cancel' },
      },
      'session.close': {
        description: 'Close after the audio already asked for (text after the last input.done is dropped)',
        schema: clientMessages['session.close'],
        example: { type: 'session.close' },
      },
    },
    server: {
      'audio.start': {
        description: 'A sentence’s audio follows',
        schema: serverMessages['audio.start'],
        example: {
          type: 'audio.start',
          utterance_index: 0,
          sentence_index: 0,
          sentence_text: '안녕하세요.',
          format: 'pcm',
          sample_rate: 24000,
          channels: 1,
        },
      },
      '(binary)': {
        description:
          'The sentence’s audio in the configured format: chunks as generated with stream_audio, ' +
          'otherwise one message per sentence',
        schema: BINARY,
      },
      'audio.done': {
        description: 'The sentence’s audio is complete',
        schema: serverMessages['audio.done'],
        example: {
          type: 'audio.done',
          utterance_index: 0,
          sentence_index: 0,
          total_bytes: 48000,
          error: false,
        },
      },
      'session.done': {
        description: 'The utterance is complete (the session stays open)',
        schema: serverMessages['session.done'],
        example: { type: 'session.done', utterance_index: 0, total_sentences: 3 },
      },
      'input.cancelled': {
        description: 'The answer to input.cancel',
        schema: serverMessages['input.cancelled'],
        example: { type: 'input.cancelled', utterance_index: 0, next_sentence_index: 2 },
      },
      error: {
        description: 'A refused message or a failed sentence (the session goes on), or why it is closed',
        schema: serverMessages.error,
        example: {
          type: 'error',
          message: 'send session.config before any text',
          detail: 'send session.config before any text',
          code: 'invalid_input',
          status_code: 400,
        },
      },
    },
    closeCodes: {
      1000: 'session.close: everything asked for was sent',
      1008: 'Bad input before the first session.config, an unknown voice, STREAM_SESSION_MAX_TEXT exceeded, or idle for STREAM_IDLE_TIMEOUT_S',
      1009: 'A message over 1 MB',
      1011: 'A server failure',
      1013: 'STREAM_MAX_SESSIONS are open: try again later',
    },
  },
  responses: {
    101: { description: 'Switching Protocols: the WebSocket session begins' },
    404: { description: 'A plain GET, not a WebSocket upgrade (no body)' },
  },
};
