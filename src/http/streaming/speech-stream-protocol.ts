import type { RawData } from 'ws';
import { z } from 'zod';
import { InvalidInputError, publicError, ServerError } from '../../errors.ts';
import type { SpeechFormat } from '../../media/speech-encoder.ts';
import { RequestValidationError } from '../errors/request-validation-error.ts';
import { sessionConfigFields } from '../schemas/speech-stream-messages.ts';

/*
 * The messages of WS /v1/audio/speech/stream as vLLM-Omni's server has them
 * (vllm_omni/entrypoints/openai/serving_speech_stream.py at 0131cb5560450800b800e889fb849ea2c851bd3f),
 * so that its clients work unchanged; `input.cancel` and `input.cancelled` are ours.
 */

/** Largest client message; text arrives in small pieces, so anything near this is a mistake. */
export const MAX_STREAM_MESSAGE_BYTES = 1 << 20;

const MESSAGE_TYPES = ['session.config', 'input.text', 'input.done', 'session.close', 'input.cancel'];
const MESSAGE_SHAPE = `{"type": ${MESSAGE_TYPES.map((type) => `"${type}"`).join(' | ')}, …}`;

/**
 * A message that is refused without harm to the session: once it is configured the session goes on,
 * as vLLM-Omni's does (before that there is nothing to go on with).
 */
export class MessageRejected extends InvalidInputError {
  constructor(message: string) {
    super(message, { code: 'invalid_message' });
    this.name = 'MessageRejected';
  }
}

const clientMessageSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('session.config') }),
  z.object({ type: z.literal('input.text'), text: z.string() }),
  z.object({ type: z.literal('input.done') }),
  z.object({ type: z.literal('session.close') }),
  z.object({ type: z.literal('input.cancel') }),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** One client message; a message over the size limit is refused outright (it ends the session). */
export function parseClientMessage(data: RawData, isBinary: boolean): ClientMessage {
  const bytes = Array.isArray(data) ? data.reduce((sum, part) => sum + part.length, 0) : data.byteLength;
  if (bytes > MAX_STREAM_MESSAGE_BYTES)
    throw new InvalidInputError(
      `a message of ${bytes} bytes is over the ${MAX_STREAM_MESSAGE_BYTES}-byte limit: send the text in pieces`,
      { code: 'message_too_large', statusCode: 413 },
    );
  if (isBinary) throw new MessageRejected(`send JSON text messages: ${MESSAGE_SHAPE}`);
  let json: unknown;
  try {
    json = JSON.parse(String(data));
  } catch {
    throw new MessageRejected('a message is not JSON');
  }
  const parsed = clientMessageSchema.safeParse(json);
  if (!parsed.success) throw new MessageRejected(`each message is ${MESSAGE_SHAPE}`);
  return parsed.data;
}

/** session.config: a voice must be named, or given as a reference. */
const sessionConfigWithVoice = sessionConfigFields.refine(
  (config) => config.voice !== undefined || config.ref_audio !== undefined,
  {
    path: ['speaker'],
    message: 'send speaker (or voice): a name from GET /v1/audio/voices, or ref_audio with ref_text',
  },
);

/** vLLM-Omni's spellings of our fields: `speaker` names the voice (`voice` wins when both come). */
function withVllmOmniAliases(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // pydantic reads null as "not given", and vLLM-Omni's clients may send it so.
  const { speaker, ...fields } = Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== null),
  );
  return fields.voice === undefined && speaker !== undefined ? { ...fields, voice: speaker } : fields;
}

const sessionConfigSchema = z.preprocess(withVllmOmniAliases, sessionConfigWithVoice);
export type SessionConfig = z.output<typeof sessionConfigSchema>;

export function parseSessionConfig(message: ClientMessage): SessionConfig {
  const parsed = sessionConfigSchema.safeParse(message);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new MessageRejected(`session.config: ${issues.join('; ')}`);
}

/** Where a sentence sits: the utterance (what one input.done ended) and its place in it. */
export interface SentencePlace {
  utterance_index: number;
  sentence_index: number;
}

/** Sent before a sentence's audio; the sample rate is left out when the sentence failed before it. */
export function audioStart(
  place: SentencePlace,
  text: string,
  format: SpeechFormat,
  sampleRate?: number,
  referenceWarnings: string[] = [],
) {
  return {
    type: 'audio.start',
    utterance_index: place.utterance_index,
    sentence_index: place.sentence_index,
    sentence_text: text,
    format,
    // vLLM-Omni states these for streamed PCM only; they are known here before any audio, so always.
    ...(sampleRate === undefined ? {} : { sample_rate: sampleRate, channels: 1 }),
    ...(referenceWarnings.length > 0 ? { reference_warnings: referenceWarnings } : {}),
  };
}

export function audioDone(place: SentencePlace, totalBytes: number, failed: boolean) {
  return {
    type: 'audio.done',
    utterance_index: place.utterance_index,
    sentence_index: place.sentence_index,
    total_bytes: totalBytes,
    error: failed,
  };
}

/** The end of an utterance, not of the session. */
export function sessionDone(utteranceIndex: number, totalSentences: number) {
  return { type: 'session.done', utterance_index: utteranceIndex, total_sentences: totalSentences };
}

export function inputCancelled(utteranceIndex: number, nextSentenceIndex: number) {
  return { type: 'input.cancelled', utterance_index: utteranceIndex, next_sentence_index: nextSentenceIndex };
}

/** A cross-field failure found outside the schema is the client's mistake too, and says what it was. */
function asServerError(error: unknown): unknown {
  return error instanceof RequestValidationError
    ? new InvalidInputError(error.message, { statusCode: 422, code: 'invalid_request' })
    : error;
}

/**
 * vLLM-Omni's clients read `message`; this server's clients read `detail` and `code`. A sentence that
 * failed after some of its audio was sent says so, as vLLM-Omni's does: that audio is to be discarded.
 */
export function errorMessage(error: unknown, reference: string, partialAudio = false) {
  const reported = publicError(asServerError(error), reference);
  return {
    type: 'error',
    message: reported.detail,
    ...reported,
    ...(partialAudio ? { partial_audio: true, action: 'discard' } : {}),
  };
}

/** Close codes: 1008 policy (bad input), 1009 message too big, 1011 server failure, 1013 try later. */
export function closeCodeFor(error: unknown): number {
  const known = asServerError(error);
  if (!(known instanceof ServerError)) return 1011;
  if (known.code === 'message_too_large') return 1009;
  if (known.code === 'too_many_sessions') return 1013;
  return known.statusCode < 500 ? 1008 : 1011;
}
