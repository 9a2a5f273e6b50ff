import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { publicError } from '../../errors.ts';
import { CONTENT_TYPES, encodeSpeechStream } from '../../media/speech-encoder.ts';
import type { SpeechService } from '../../core/speech-service.ts';
import type { VoiceLibrary } from '../../core/voice-library.ts';
import { requestSignal } from '../requests/request-signal.ts';
import { audioOf, openAiSpeechJob, referenceFor } from '../requests/openai-speech-job.ts';
import { openAiSpeechBodySchema } from '../schemas/openai-schemas.ts';
import { responseOutlet, roomToSend } from '../streaming/stream-backpressure.ts';
import { corsHeadersFor, SseWriter } from '../streaming/sse.ts';
import { cacheHeader, queueHeaders, referenceWarningsHeader } from '../response-headers.ts';
import { listedVoice, voiceRoutes } from './voice-routes.ts';
import { logFailure } from '../../observability/log-failure.ts';
import { speechDocs, voiceListDocs } from '../openapi/openai-docs.ts';
import { withOpenAiError, type ErrorBody } from '../errors/openai-error.ts';

export interface OpenAiRoutesOptions {
  speech: SpeechService;
  voices: VoiceLibrary;
  requestTimeoutMs: number;
  /** A stream whose client takes nothing for this long is ended. */
  stallTimeoutMs: number;
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
    { schema: { summary: 'Voices a speech request may name', tags: ['openai'], docs: voiceListDocs } },
    async () => ({ voices: (await voices.list()).map(listedVoice) }),
  );
  // POST (save a voice) and DELETE, inside this plugin so that their errors carry OpenAI's object too.
  await app.register(voiceRoutes, { voices, requestTimeoutMs: options.requestTimeoutMs });

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
        docs: speechDocs,
      },
    },
    async (request, reply) => {
      const body = request.body;
      const reference = await referenceFor(body, voices);
      const job = openAiSpeechJob(body, body.input, reference);
      const signal = requestSignal(request, reply, options.requestTimeoutMs);
      // Everything the input can get wrong fails here, as a plain 4xx, before any audio is sent.
      const opened = await speech.open({ ...job, client: request.ip }, signal);
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
        ...queueHeaders(opened.queue),
      };
      if (body.instructions?.trim())
        headers['X-Ignored'] =
          'instructions (the Base models clone a voice; they do not follow instructions)';

      if (body.stream_format === 'audio') {
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          ...corsHeadersFor(reply),
          ...headers,
          'Content-Type': CONTENT_TYPES[body.response_format],
        });
        try {
          for await (const chunk of encoded) {
            if (raw.destroyed) break; // the client left: stopping here cancels generation
            raw.write(chunk);
            await roomToSend(responseOutlet(raw), options.stallTimeoutMs);
          }
          raw.end();
        } catch (error) {
          logFailure(request.log, error, 'speech stream failed');
          raw.destroy(); // mid-stream, cutting the connection is the only way to say the audio is incomplete
        }
        return;
      }
      const sse = new SseWriter(reply, { ...corsHeadersFor(reply), ...headers });
      let bytes = 0;
      try {
        for await (const chunk of encoded) {
          if (!sse.isOpen) break; // the client left: stopping here cancels generation
          bytes += chunk.length;
          sse.sendData({ type: 'speech.audio.delta', audio: chunk.toString('base64') });
          await sse.ready(options.stallTimeoutMs); // a slow reader pauses the generation
        }
        sse.sendData({
          type: 'speech.audio.done',
          usage: { input_characters: body.input.length, output_bytes: bytes },
        });
      } catch (error) {
        logFailure(request.log, error, 'speech stream failed');
        sse.sendData({ type: 'error', error: publicError(error, `request ${request.id}`) });
      } finally {
        sse.end();
      }
    },
  );
};
