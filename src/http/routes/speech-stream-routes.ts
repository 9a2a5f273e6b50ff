import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from '@fastify/websocket';
import { z } from 'zod';
import { encodeSpeechStream, SPEECH_FORMATS } from '../../media/speech-encoder.ts';
import { SentenceAccumulator } from '../../core/sentence-accumulator.ts';
import type { SpeechService } from '../../core/speech-service.ts';
import type { VoiceLibrary } from '../../core/voice-library.ts';
import { InvalidInputError, publicError, ServerError } from '../../errors.ts';
import { splitSentences } from '../../text/index.ts';
import { audioOf, openAiSpeechJob, referenceFor, type ChosenReference } from '../openai-speech-job.ts';
import { openAiSpeechBodySchema } from '../schemas/openai-schemas.ts';
import { roomToSend } from '../stream-backpressure.ts';

export interface SpeechStreamRoutesOptions {
  speech: SpeechService;
  voices: VoiceLibrary;
  maxTextLength: number;
  /** A session with no message for this long (and nothing left to speak) is closed. */
  idleTimeoutMs: number;
  /** Most text per session, all input.text messages together. */
  maxSessionText: number;
  /** Sessions open at once. */
  maxSessions: number;
  /** A client that takes no audio for this long is disconnected. */
  stallTimeoutMs: number;
}

/** Largest client message; text arrives in small pieces, so anything near this is a mistake. */
export const MAX_STREAM_MESSAGE_BYTES = 1 << 20;

/** Close codes: 1008 policy (bad input), 1009 message too big, 1011 server failure, 1013 try later. */
function closeCodeFor(error: unknown): number {
  if (!(error instanceof ServerError)) return 1011;
  if (error.code === 'message_too_large') return 1009;
  if (error.code === 'too_many_sessions') return 1013;
  return error.statusCode < 500 ? 1008 : 1011;
}

/** session.config: whose voice and how, as POST /v1/audio/speech takes it, less the text. */
const sessionConfigSchema = openAiSpeechBodySchema
  .omit({ input: true, stream_format: true, instructions: true })
  .extend({
    type: z.literal('session.config'),
    response_format: z.enum(SPEECH_FORMATS).default('wav'),
  });
type SessionConfig = z.infer<typeof sessionConfigSchema>;

const MESSAGE_SHAPE = '{"type": "session.config" | "input.text" | "input.done" | "input.cancel", …}';

const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session.config') }).passthrough(),
  z.object({ type: z.literal('input.text'), text: z.string() }),
  z.object({ type: z.literal('input.done') }),
  z.object({ type: z.literal('input.cancel') }),
]);

/**
 * WS /v1/audio/speech/stream: text in as it is written (an LLM's tokens), speech out sentence by
 * sentence, in vLLM-Omni's protocol. The client sends `session.config` once, then `input.text` pieces,
 * then `input.done`; for each sentence the server sends `audio.start`, the audio as binary frames while
 * it is generated, and `audio.done`, and at the end `session.done`. `input.cancel` (ours: the candidate
 * interrupts) stops the sentence being spoken and drops the queued ones and the buffered text, then
 * answers `input.cancelled`; the session goes on. Closing the socket cancels the work.
 */
export const speechStreamRoutes: FastifyPluginAsync<SpeechStreamRoutesOptions> = async (app, options) => {
  let openSessions = 0;
  app.get('/v1/audio/speech/stream', { websocket: true }, (socket: WebSocket, request) => {
    openSessions += 1;
    let textReceived = 0;
    const controller = new AbortController();
    const signal = controller.signal;
    const sentences = new SentenceAccumulator((text) => splitSentences(text), options.maxTextLength);
    let config: SessionConfig | undefined;
    let reference: Promise<ChosenReference> | undefined;
    let work = Promise.resolve();
    let sentenceIndex = 0;
    let idle: NodeJS.Timeout | undefined;
    let inputDone = false;
    // One turn of speech: input.cancel (the candidate interrupts) ends it and starts the next.
    let turn = new AbortController();

    const outlet = {
      buffered: () => socket.bufferedAmount,
      isOpen: () => socket.readyState === socket.OPEN,
      cut: () => socket.terminate(),
    };
    const send = (message: Record<string, unknown>) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
    };
    const fail = (error: unknown) => {
      if (signal.aborted) return;
      request.log.warn({ err: error }, 'speech stream session failed');
      const reported = publicError(error, `request ${request.id}`);
      // vLLM-Omni's clients read `message`; the seed's shape is `detail`.
      send({ type: 'error', message: reported.detail, ...reported });
      controller.abort();
      socket.close(closeCodeFor(error));
    };
    const keepAlive = () => {
      clearTimeout(idle);
      if (inputDone) return; // the rest is ours to finish: no client message is awaited
      idle = setTimeout(
        () =>
          fail(new InvalidInputError('no message for too long: the session was closed', { code: 'idle' })),
        options.idleTimeoutMs,
      );
    };

    const speak = (sentence: string) => {
      const index = sentenceIndex++;
      const thisTurn = turn.signal;
      const turnSignal = AbortSignal.any([signal, thisTurn]);
      work = work
        .then(async () => {
          if (turnSignal.aborted || !config || !reference) return;
          const job = openAiSpeechJob(config, sentence, await reference, index);
          const opened = await options.speech.open(job, turnSignal);
          send({
            type: 'audio.start',
            sentence_index: index,
            sentence_text: sentence,
            format: config.response_format,
            sample_rate: opened.sampleRate,
            ...(opened.referenceWarnings.length > 0 ? { reference_warnings: opened.referenceWarnings } : {}),
          });
          for await (const chunk of encodeSpeechStream(
            audioOf(opened),
            config.response_format,
            opened.sampleRate,
            turnSignal,
            config.speed,
          )) {
            if (socket.readyState !== socket.OPEN) break;
            socket.send(chunk);
            // A slow reader pauses this sentence's generation rather than filling memory.
            await roomToSend(outlet, options.stallTimeoutMs, turnSignal);
          }
          send({ type: 'audio.done', sentence_index: index });
          keepAlive();
        })
        // A sentence stopped by input.cancel is not a failure of the session.
        .catch((error: unknown) => (thisTurn.aborted && !signal.aborted ? undefined : fail(error)));
    };

    const cancelTurn = () => {
      turn.abort();
      sentences.flush();
      turn = new AbortController();
      work = work.then(() => {
        if (!signal.aborted) send({ type: 'input.cancelled', next_sentence_index: sentenceIndex });
      });
    };

    const handle = (message: z.infer<typeof clientMessageSchema>) => {
      if (message.type === 'session.config') {
        if (config) throw new InvalidInputError('session.config was already sent: send it once, first');
        const parsed = sessionConfigSchema.safeParse(message);
        if (!parsed.success)
          throw new InvalidInputError(
            `session.config: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
          );
        config = parsed.data;
        reference = referenceFor(config, options.voices);
        reference.catch(fail);
        return;
      }
      if (!config) throw new InvalidInputError('send session.config before any text');
      if (inputDone) throw new InvalidInputError('input.done was already sent: open a new session');
      if (message.type === 'input.text') {
        textReceived += message.text.length;
        if (textReceived > options.maxSessionText)
          throw new InvalidInputError(
            `this session has sent ${textReceived} characters; a session may send ${options.maxSessionText} ` +
              '(STREAM_SESSION_MAX_TEXT): open a new session for the next answer',
            { code: 'session_text_too_long', statusCode: 413 },
          );
        for (const sentence of sentences.push(message.text)) speak(sentence);
        return;
      }
      if (message.type === 'input.cancel') return cancelTurn();
      inputDone = true;
      clearTimeout(idle);
      for (const sentence of sentences.flush()) speak(sentence);
      work = work.then(() => {
        if (signal.aborted) return;
        send({ type: 'session.done', total_sentences: sentenceIndex });
        socket.close(1000);
      });
    };

    keepAlive();
    if (openSessions > options.maxSessions)
      fail(
        new ServerError(
          `${options.maxSessions} speech sessions are open (STREAM_MAX_SESSIONS): try again in a moment`,
          { code: 'too_many_sessions', statusCode: 503, isRetryable: true, expose: true },
        ),
      );
    socket.on('message', (data, isBinary) => {
      keepAlive();
      try {
        const bytes = Array.isArray(data)
          ? data.reduce((sum, part) => sum + part.length, 0)
          : (data as Buffer | ArrayBuffer).byteLength;
        if (bytes > MAX_STREAM_MESSAGE_BYTES)
          throw new InvalidInputError(
            `a message of ${bytes} bytes is over the ${MAX_STREAM_MESSAGE_BYTES}-byte limit: send the text in pieces`,
            { code: 'message_too_large', statusCode: 413 },
          );
        if (isBinary) throw new InvalidInputError(`send JSON text messages: ${MESSAGE_SHAPE}`);
        let json: unknown;
        try {
          json = JSON.parse(String(data));
        } catch {
          throw new InvalidInputError('a message is not JSON');
        }
        const parsed = clientMessageSchema.safeParse(json);
        if (!parsed.success) throw new InvalidInputError(`each message is ${MESSAGE_SHAPE}`);
        handle(parsed.data);
      } catch (error) {
        fail(error);
      }
    });
    socket.on('close', () => {
      openSessions -= 1;
      clearTimeout(idle);
      controller.abort();
    });
  });
};
