import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from '@fastify/websocket';
import { encodeSpeechStream } from '../../media/speech-encoder.ts';
import { SentenceAccumulator } from '../../core/sentence-accumulator.ts';
import type { SpeechService } from '../../core/speech-service.ts';
import type { VoiceLibrary } from '../../core/voice-library.ts';
import { InvalidInputError, ServerError } from '../../errors.ts';
import { splitSentences } from '../../text/index.ts';
import {
  audioOf,
  openAiSpeechJob,
  referenceFor,
  type ChosenReference,
} from '../requests/openai-speech-job.ts';
import { sentenceFrames } from '../streaming/speech-stream-frames.ts';
import {
  audioDone,
  audioStart,
  closeCodeFor,
  errorMessage,
  inputCancelled,
  MessageRejected,
  parseClientMessage,
  parseSessionConfig,
  sessionDone,
  type ClientMessage,
  type SentencePlace,
  type SessionConfig,
} from '../streaming/speech-stream-protocol.ts';
import { roomToSend } from '../streaming/stream-backpressure.ts';
import { logFailure } from '../../observability/log-failure.ts';
import { SPEECH_STREAM_DESCRIPTION, speechStreamDocs } from '../openapi/speech-stream-docs.ts';

export { MAX_STREAM_MESSAGE_BYTES } from '../streaming/speech-stream-protocol.ts';

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

/** The voice a session speaks in: its config and the reference it names. */
interface SessionVoice {
  config: SessionConfig;
  reference: Promise<ChosenReference>;
}

/**
 * WS /v1/audio/speech/stream: text in as it is written (an LLM's tokens), speech out sentence by
 * sentence, in vLLM-Omni's protocol (speech-stream-protocol.ts). The client sends `session.config`,
 * then `input.text` pieces and `input.done`, which ends an utterance but not the session: more
 * utterances may follow, after another `session.config` if the voice or format should change, until
 * `session.close` (or the socket closes). For each sentence the server sends `audio.start`, its audio
 * (chunks as they are generated with `stream_audio`, otherwise one binary message), and `audio.done`;
 * after each utterance `session.done`. `input.cancel` (ours: the candidate interrupts) stops the
 * sentence being spoken and drops the queued ones and the buffered text, then answers
 * `input.cancelled`. Closing the socket cancels the work.
 */
export const speechStreamRoutes: FastifyPluginAsync<SpeechStreamRoutesOptions> = async (app, options) => {
  let openSessions = 0;
  const schema = {
    summary: 'WebSocket: speak text while it is being written (vLLM-Omni’s protocol)',
    description: SPEECH_STREAM_DESCRIPTION,
    tags: ['openai'],
    docs: speechStreamDocs,
  };
  app.get('/v1/audio/speech/stream', { websocket: true, schema }, (socket: WebSocket, request) => {
    openSessions += 1;
    const controller = new AbortController();
    const signal = controller.signal;
    const sentences = new SentenceAccumulator((text) => splitSentences(text), options.maxTextLength);
    let textReceived = 0;
    let voice: SessionVoice | undefined;
    // Where arriving text goes: its utterance, the index of the utterance's next sentence, and
    // whether text has come since the last input.done.
    let utterance = 0;
    let sentenceIndex = 0;
    let utteranceOpen = false;
    let closing = false;
    // What is left to send, in order; the idle clock does not run while some of it is.
    let work = Promise.resolve();
    let pending = 0;
    let idle: NodeJS.Timeout | undefined;
    // One turn of speech: input.cancel (the candidate interrupts) ends it and starts the next.
    let turn = new AbortController();

    const outlet = {
      buffered: () => socket.bufferedAmount,
      isOpen: () => socket.readyState === socket.OPEN,
      cut: () => socket.terminate(),
    };
    const send = (message: object) => {
      if (outlet.isOpen()) socket.send(JSON.stringify(message));
    };
    const fail = (error: unknown) => {
      if (signal.aborted) return;
      logFailure(request.log, error, 'speech stream session failed');
      send(errorMessage(error, `request ${request.id}`));
      controller.abort();
      socket.close(closeCodeFor(error));
    };
    const keepAlive = () => {
      clearTimeout(idle);
      if (closing || signal.aborted) return;
      const expire = () =>
        pending > 0
          ? keepAlive()
          : fail(new InvalidInputError('no message for too long: the session was closed', { code: 'idle' }));
      idle = setTimeout(expire, options.idleTimeoutMs);
    };
    const enqueue = (step: () => Promise<void>) => {
      pending += 1;
      work = work.then(async () => {
        try {
          if (!signal.aborted) await step();
        } catch (error) {
          fail(error);
        } finally {
          pending -= 1;
          // Idle time counts from the last message or the last audio, whichever is later.
          if (pending === 0) keepAlive();
        }
      });
    };

    const speakSentence = async (
      text: string,
      place: SentencePlace,
      { config, reference }: SessionVoice,
      turnSignal: AbortSignal,
    ) => {
      if (turnSignal.aborted) return;
      let started = false;
      let sentBytes = 0;
      try {
        const job = openAiSpeechJob(config, text, await reference, place.sentence_index);
        const opened = await options.speech.open({ ...job, client: request.ip }, turnSignal);
        const format = config.response_format;
        const { sampleRate } = opened;
        send(audioStart(place, text, format, sampleRate, opened.referenceWarnings));
        started = true;
        const encoded = encodeSpeechStream(audioOf(opened), format, sampleRate, turnSignal, config.speed);
        for await (const frame of sentenceFrames(encoded, config.stream_audio, format, sampleRate)) {
          if (!outlet.isOpen()) return;
          socket.send(frame);
          sentBytes += frame.length;
          // A slow reader pauses this sentence's generation rather than filling memory.
          await roomToSend(outlet, options.stallTimeoutMs, turnSignal);
        }
        send(audioDone(place, sentBytes, false));
      } catch (error) {
        // Stopped by input.cancel or by the end of the session: nothing failed.
        if (turnSignal.aborted) return;
        // As vLLM-Omni does: the sentence fails, the session goes on with the next one.
        logFailure(request.log, error, 'speech stream sentence failed', place);
        if (!started) send(audioStart(place, text, config.response_format));
        send(errorMessage(error, `request ${request.id}`, sentBytes > 0));
        send(audioDone(place, sentBytes, true));
      }
    };
    const speak = (text: string, current: SessionVoice) => {
      const place = { utterance_index: utterance, sentence_index: sentenceIndex++ };
      const turnSignal = AbortSignal.any([signal, turn.signal]);
      enqueue(() => speakSentence(text, place, current, turnSignal));
    };

    const configure = (message: ClientMessage) => {
      if (utteranceOpen)
        throw new MessageRejected(
          'session.config cannot change an utterance under way: send input.done first',
        );
      const config = parseSessionConfig(message);
      const reference = referenceFor(config, options.voices);
      reference.catch(() => {}); // answered in its turn, below
      // A voice that is not here ends the session (each of its sentences would fail the same way),
      // once the audio asked for before it has been sent.
      enqueue(async () => {
        await reference;
      });
      voice = { config, reference };
    };
    const takeText = (text: string, current: SessionVoice) => {
      textReceived += text.length;
      if (textReceived > options.maxSessionText)
        throw new InvalidInputError(
          `this session has sent ${textReceived} characters; a session may send ${options.maxSessionText} ` +
            '(STREAM_SESSION_MAX_TEXT): open a new session for the next answer',
          { code: 'session_text_too_long', statusCode: 413 },
        );
      if (text !== '') utteranceOpen = true;
      for (const sentence of sentences.push(text)) speak(sentence, current);
    };
    const endUtterance = (current: SessionVoice) => {
      for (const sentence of sentences.flush()) speak(sentence, current);
      const done = sessionDone(utterance, sentenceIndex);
      enqueue(async () => send(done));
      utterance += 1;
      sentenceIndex = 0;
      utteranceOpen = false;
    };
    const cancelTurn = () => {
      turn.abort();
      sentences.flush();
      turn = new AbortController();
      const cancelled = inputCancelled(utterance, sentenceIndex);
      enqueue(async () => send(cancelled));
    };
    const closeSession = () => {
      closing = true;
      clearTimeout(idle);
      // What was queued is sent first; text that no input.done ended is dropped, as vLLM-Omni drops it.
      enqueue(async () => socket.close(1000));
    };

    const handle = (message: ClientMessage) => {
      if (message.type === 'session.config') return configure(message);
      if (!voice) throw new InvalidInputError('send session.config before any text');
      if (message.type === 'input.text') return takeText(message.text, voice);
      if (message.type === 'input.done') return endUtterance(voice);
      if (message.type === 'input.cancel') return cancelTurn();
      closeSession();
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
      // After session.close the session only finishes what it was given.
      if (signal.aborted || closing) return;
      keepAlive();
      try {
        handle(parseClientMessage(data, isBinary));
      } catch (error) {
        if (error instanceof MessageRejected && voice) send(errorMessage(error, `request ${request.id}`));
        else fail(error);
      }
    });
    socket.on('close', () => {
      openSessions -= 1;
      clearTimeout(idle);
      controller.abort();
    });
  });
};
