import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { CONTENT_TYPES, encodeSpeechStream } from '../../audio/encode-stream.ts';
import type { SpeechEvent } from '../../core/speech-job.ts';
import type { SpeechService } from '../../core/speech-service.ts';
import type { VoiceLibrary } from '../../core/voice-library.ts';
import { RequestValidationError } from '../request-validation-error.ts';
import { requestSignal } from '../request-signal.ts';
import { openAiSpeechBodySchema, type OpenAiSpeechBody } from '../schemas/openai-schemas.ts';
import { generationParamsSchema } from '../schemas/tts-schemas.ts';
import { speechJobFromBody } from '../speech-job-from-body.ts';
import { corsHeadersFor, SseWriter } from '../sse.ts';
import { sseErrorData } from '../sse-error.ts';
import { referenceWarningsHeader } from '../reference-warnings.ts';

export interface OpenAiRoutesOptions {
  speech: SpeechService;
  voices: VoiceLibrary;
  requestTimeoutMs: number;
}

/** The reference to clone: a named voice, or ref_audio/ref_text as the seed's endpoint takes them. */
async function referenceFor(body: OpenAiSpeechBody, voices: VoiceLibrary) {
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

async function* audioOf(events: AsyncIterable<SpeechEvent>): AsyncGenerator<Float32Array> {
  for await (const event of events) if (event.type === 'audio') yield event.samples;
}

/**
 * OpenAI's speech API (`POST /v1/audio/speech`, `GET /v1/audio/voices`) over the same speech service,
 * so that clients and agent frameworks written for OpenAI speak in a cloned voice. Audio streams in
 * every format as it is generated.
 */
export const openAiRoutes: FastifyPluginAsync<OpenAiRoutesOptions> = async (app, options) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { speech, voices } = options;

  routes.get(
    '/v1/audio/voices',
    { schema: { summary: 'Voices a speech request may name', tags: ['openai'] } },
    async () => ({
      voices: (await voices.list()).map((voice) => ({
        id: voice.name,
        name: voice.name,
        file: voice.file,
        has_transcript: voice.transcript !== undefined,
      })),
    }),
  );

  routes.post(
    '/v1/audio/speech',
    {
      schema: {
        summary: 'OpenAI-compatible speech in a cloned voice',
        description:
          'OpenAI’s body (model, input, voice, response_format, speed, stream_format, instructions) plus ' +
          'language, ref_audio, ref_text, x_vector_only_mode, seed, normalize and pronunciations. Audio ' +
          'streams as it is generated; stream_format=sse sends speech.audio.delta events (base64 of the ' +
          'encoded audio), then speech.audio.done.',
        tags: ['openai'],
        body: openAiSpeechBodySchema,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const reference = await referenceFor(body, voices);
      const job = speechJobFromBody(
        {
          text: body.input,
          language: body.language,
          ref_audio: reference.ref_audio,
          ref_text: reference.ref_text,
          x_vector_only_mode: reference.x_vector_only_mode,
          split_sentences: null,
          seed: body.seed,
          generation_params: generationParamsSchema.parse({}),
          normalize: body.normalize,
          pronunciations: body.pronunciations,
        },
        body.model,
      );
      const signal = requestSignal(request, reply, options.requestTimeoutMs);
      // Everything the input can get wrong fails here, as a plain 4xx, before any audio is sent.
      const opened = await speech.open(job, signal);
      const encoded = encodeSpeechStream(
        audioOf(opened.events),
        body.response_format,
        opened.sampleRate,
        signal,
      );
      const headers: Record<string, string> = {
        'X-Seed': String(job.seed),
        'X-Voice': encodeURIComponent(reference.voice),
        'X-Sample-Rate': String(opened.sampleRate),
        ...referenceWarningsHeader(opened.referenceWarnings),
      };
      if (body.instructions?.trim())
        headers['X-Ignored'] =
          'instructions (the Base models clone a voice; they do not follow instructions)';

      if (body.stream_format === 'audio') {
        return reply.headers(headers).type(CONTENT_TYPES[body.response_format]).send(Readable.from(encoded));
      }
      const sse = new SseWriter(reply, { ...corsHeadersFor(reply), ...headers });
      let bytes = 0;
      try {
        for await (const chunk of encoded) {
          if (!sse.isOpen) break; // the client left: stopping here cancels generation
          bytes += chunk.length;
          sse.sendData({ type: 'speech.audio.delta', audio: chunk.toString('base64') });
        }
        sse.sendData({
          type: 'speech.audio.done',
          usage: { input_characters: body.input.length, output_bytes: bytes },
        });
      } catch (error) {
        request.log.warn({ err: error }, 'speech stream failed');
        sse.sendData({ type: 'error', error: sseErrorData(error, request.id) });
      } finally {
        sse.end();
      }
    },
  );
};
