import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { publicError } from '../../errors.ts';
import { PassThrough, pipeline, Readable } from 'node:stream';
import { CONTENT_TYPES, encodeSpeechStream } from '../../media/speech-encoder.ts';
import type { SpeechService } from '../../core/speech-service.ts';
import type { VoiceLibrary } from '../../core/voice-library.ts';
import { requestSignal } from '../request-signal.ts';
import { audioOf, openAiSpeechJob, referenceFor } from '../openai-speech-job.ts';
import { openAiSpeechBodySchema } from '../schemas/openai-schemas.ts';
import { cutWhenStalled, responseOutlet, STREAM_BUFFER_BYTES } from '../stream-backpressure.ts';
import { corsHeadersFor, SseWriter } from '../sse.ts';
import { cacheHeader, referenceWarningsHeader } from '../response-headers.ts';

export interface OpenAiRoutesOptions {
  speech: SpeechService;
  voices: VoiceLibrary;
  requestTimeoutMs: number;
  /** A stream whose client takes nothing for this long is ended. */
  stallTimeoutMs?: number;
}

interface ErrorBody {
  detail?: string | { loc?: (string | number)[]; msg?: string }[];
  code?: string;
}

/** The OpenAI error object for one of this server's error bodies (which it keeps). */
function withOpenAiError(body: ErrorBody, status: number): ErrorBody & { error: Record<string, unknown> } {
  const issues = Array.isArray(body.detail) ? body.detail : [];
  const message =
    typeof body.detail === 'string'
      ? body.detail
      : issues
          .map((issue) => `${(issue.loc ?? []).slice(1).join('.')}: ${issue.msg ?? 'invalid'}`)
          .join('; ');
  return {
    ...body,
    error: {
      message,
      type: status < 500 ? 'invalid_request_error' : 'server_error',
      code: body.code ?? (issues.length > 0 ? 'invalid_value' : null),
      param: issues.length > 0 ? String((issues[0].loc ?? []).slice(1).join('.')) || null : null,
    },
  };
}

/**
 * OpenAI's speech API (`POST /v1/audio/speech`, `GET /v1/audio/voices`) over the same speech service,
 * so that clients and agent frameworks written for OpenAI speak in a cloned voice. Audio streams in
 * every format as it is generated.
 */
export const openAiRoutes: FastifyPluginAsync<OpenAiRoutesOptions> = async (app, options) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { speech, voices } = options;
  // OpenAI's SDKs read errors from {"error": {"message", …}}: add that beside this server's "detail".
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== 'string') return payload;
    return JSON.stringify(withOpenAiError(JSON.parse(payload) as ErrorBody, reply.statusCode));
  });

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
      const job = openAiSpeechJob(body, body.input, reference);
      const signal = requestSignal(request, reply, options.requestTimeoutMs);
      // Everything the input can get wrong fails here, as a plain 4xx, before any audio is sent.
      const opened = await speech.open(job, signal);
      const encoded = encodeSpeechStream(
        audioOf(opened),
        body.response_format,
        opened.sampleRate,
        signal,
        body.speed,
      );
      const headers: Record<string, string> = {
        'X-Seed': String(job.seed),
        'X-Voice': encodeURIComponent(reference.voice),
        'X-Sample-Rate': String(opened.sampleRate),
        ...referenceWarningsHeader(opened.referenceWarnings),
        ...cacheHeader(opened.fromCache),
      };
      if (body.instructions?.trim())
        headers['X-Ignored'] =
          'instructions (the Base models clone a voice; they do not follow instructions)';

      if (body.stream_format === 'audio') {
        // Encoded audio may run STREAM_BUFFER_BYTES ahead of a slow client before generation waits.
        const audio = new PassThrough({ highWaterMark: STREAM_BUFFER_BYTES });
        // pipeline, not pipe: a failure mid-stream reaches the response, and a client gone stops the source.
        pipeline(Readable.from(encoded), audio, () => {});
        cutWhenStalled(responseOutlet(reply.raw), options.stallTimeoutMs ?? 30000, (stop) =>
          reply.raw.once('close', stop),
        );
        return reply.headers(headers).type(CONTENT_TYPES[body.response_format]).send(audio);
      }
      const sse = new SseWriter(
        reply,
        { ...corsHeadersFor(reply), ...headers },
        { stallTimeoutMs: options.stallTimeoutMs },
      );
      let bytes = 0;
      try {
        for await (const chunk of encoded) {
          if (!sse.isOpen) break; // the client left: stopping here cancels generation
          bytes += chunk.length;
          sse.sendData({ type: 'speech.audio.delta', audio: chunk.toString('base64') });
          await sse.ready(); // a slow reader pauses the generation instead of filling memory
        }
        sse.sendData({
          type: 'speech.audio.done',
          usage: { input_characters: body.input.length, output_bytes: bytes },
        });
      } catch (error) {
        request.log.warn({ err: error }, 'speech stream failed');
        sse.sendData({ type: 'error', error: publicError(error, `request ${request.id}`) });
      } finally {
        sse.end();
      }
    },
  );
};
