import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { publicError } from '../../errors.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { WavPieces } from '../../audio/wav-pieces.ts';
import type { OpenedSpeech, SpeechService } from '../../core/speech-service.ts';
import type { VoiceCallbackLedger } from '../../core/voice-callbacks.ts';
import { RequestValidationError } from '../errors/request-validation-error.ts';
import { requestSignal } from '../requests/request-signal.ts';
import {
  voiceCloneBodySchema,
  voiceCloneQuerySchema,
  voiceCloneSseQuerySchema,
} from '../schemas/tts-schemas.ts';
import { modelKeyForSize, speechJobFromBody } from '../requests/speech-job-from-body.ts';
import { corsHeadersFor, SseWriter } from '../streaming/sse.ts';
import { jsonWithAudio } from '../streaming/json-with-audio.ts';
import { cacheHeader, queueHeaders, referenceWarningsHeader } from '../response-headers.ts';
import { logFailure } from '../../observability/log-failure.ts';
import { voiceCloneDocs, voiceCloneSseDocs } from '../openapi/tts-docs.ts';

export interface TtsRoutesOptions {
  speech: SpeechService;
  requestTimeoutMs: number;
  /** A stream whose client takes nothing for this long is ended. */
  stallTimeoutMs: number;
  /** Renders of a text-driven lip-sync engine waiting for its callbacks (NewAvata mode). */
  callbacks?: VoiceCallbackLedger;
}

/**
 * Runs a /tts/voice_clone request and tells a render waiting for this text (NewAvata calls back for
 * the speech of its renders) whether it was answered, and if not, why.
 */
async function reportingTo<T>(
  callbacks: VoiceCallbackLedger | undefined,
  text: unknown,
  reference: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!callbacks || typeof text !== 'string') return work();
  try {
    const result = await work();
    callbacks.record(text, { ok: true, status: 200 });
    return result;
  } catch (error) {
    const failure =
      error instanceof RequestValidationError
        ? { status_code: 422, detail: error.message }
        : publicError(error, reference);
    callbacks.record(text, { ok: false, status: failure.status_code, detail: failure.detail });
    throw error;
  }
}

const seconds = (startedAt: number) => ((performance.now() - startedAt) / 1000).toFixed(3);

/** The seed's /tts/voice_clone and its SSE variant, with the same bodies, headers and events. */
export const ttsRoutes: FastifyPluginAsync<TtsRoutesOptions> = async (app, options) => {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { speech } = options;

  routes.post(
    '/tts/voice_clone',
    {
      schema: {
        summary: 'Speak text in the voice of a reference recording',
        description:
          'A string `text` answers audio/wav (24 kHz mono) with X-Generation-Time; a list answers JSON with one base64 WAV per text.',
        tags: ['tts'],
        querystring: voiceCloneQuerySchema,
        body: voiceCloneBodySchema,
        docs: voiceCloneDocs,
      },
    },
    async (request, reply) => {
      const startedAt = performance.now();
      const { job, opened, wavs } = await reportingTo(
        options.callbacks,
        request.body.text,
        `request ${request.id}`,
        async () => {
          const job = speechJobFromBody(request.body, modelKeyForSize(request.query.model_size), {
            streaming: false,
          });
          const signal = requestSignal(request, reply, options.requestTimeoutMs);
          const opened = await speech.open({ ...job, client: request.ip }, signal);
          return { job, opened, wavs: await collectWavs(opened) };
        },
      );
      const generationTime = seconds(startedAt);
      reply
        .header('X-Generation-Time', generationTime)
        .header('X-Seed', String(job.seed))
        .headers(referenceWarningsHeader(opened.referenceWarnings))
        .headers(cacheHeader(opened.fromCache))
        .headers(queueHeaders(opened.queue));
      if (typeof request.body.text === 'string') {
        return reply
          .type('audio/wav')
          .header('Content-Disposition', 'attachment; filename=output.wav')
          .header('Content-Length', String(wavs[0].byteLength))
          .send(Readable.from(wavs[0].pieces()));
      }
      // What Fastify would serialize from this object, made and sent in pieces (megabytes of base64).
      const body = await jsonWithAudio((audio) => ({
        success: true,
        message: `Generated ${wavs.length} audio(s)`,
        sample_rate: opened.sampleRate,
        audio_count: wavs.length,
        audio_data: wavs.map((wav) => audio(wav.pieces())),
        generation_time: Number(generationTime),
        reference_warnings: opened.referenceWarnings,
      }));
      return reply
        .type('application/json; charset=utf-8')
        .header('Content-Length', String(body.byteLength))
        .send(Readable.from(body.pieces));
    },
  );

  routes.post(
    '/tts/voice_clone/sse',
    {
      schema: {
        summary: 'Speak text as a Server-Sent Events stream',
        description:
          'Events: `meta`, then one `audio` event (base64 WAV) per chunk as soon as it is generated, then `done`; ' +
          '`error` if generation fails. With streaming=false, one `audio` event per text after generation.',
        tags: ['tts'],
        querystring: voiceCloneSseQuerySchema,
        body: voiceCloneBodySchema,
        docs: voiceCloneSseDocs,
      },
    },
    async (request, reply) => {
      const startedAt = performance.now();
      const job = speechJobFromBody(request.body, modelKeyForSize(request.query.model_size), {
        streaming: request.query.streaming,
      });
      const signal = requestSignal(request, reply, options.requestTimeoutMs);
      // Everything the input can get wrong fails here, before the stream starts, as a plain 4xx.
      const opened = await speech.open({ ...job, client: request.ip }, signal);
      const sse = new SseWriter(reply, {
        ...corsHeadersFor(reply),
        'X-Seed': String(job.seed),
        ...referenceWarningsHeader(opened.referenceWarnings),
        ...cacheHeader(opened.fromCache),
        ...queueHeaders(opened.queue),
      });
      sse.send('meta', {
        status: 'generating',
        text: request.body.text,
        sentences:
          opened.items.length === 1 ? opened.items[0].sentences : opened.items.map((item) => item.sentences),
        seed: job.seed,
        reference_warnings: opened.referenceWarnings,
      });
      let chunkIndex = 0;
      // Without streaming, an item's audio is converted as it arrives and sent whole at its end.
      let pending = new WavPieces(opened.sampleRate);
      // The seed's page adds up generation_time over the events: each is the time that chunk took.
      let chunkStartedAt = startedAt;
      const sendAudio = async (wav: WavPieces, extra: Record<string, unknown>) => {
        const data = await jsonWithAudio((audio) => ({
          chunk_index: chunkIndex,
          audio: audio(wav.pieces()),
          sample_rate: opened.sampleRate,
          generation_time: Number(seconds(chunkStartedAt)),
          ...extra,
        }));
        sse.sendJson('audio', data.pieces);
        chunkIndex += 1;
        // Waiting for a slow reader here pauses the generation behind the loop.
        await sse.ready(options.stallTimeoutMs);
        chunkStartedAt = performance.now();
      };
      try {
        for await (const event of opened.events) {
          if (!sse.isOpen) break; // the client left: breaking the loop cancels generation
          if (event.type === 'audio' && request.query.streaming) {
            const wav = new WavPieces(opened.sampleRate);
            await wav.add(event.samples);
            await sendAudio(wav, {
              item_index: event.itemIndex,
              sentence_index: event.sentenceIndex,
              sentence: event.sentence,
            });
          } else if (event.type === 'audio') {
            await pending.add(event.samples);
          } else if (event.type === 'item-end' && !request.query.streaming) {
            await sendAudio(pending, { item_index: event.itemIndex });
            pending = new WavPieces(opened.sampleRate);
          }
        }
        sse.send('done', { total_time: Number(seconds(startedAt)), total_chunks: chunkIndex });
      } catch (error) {
        logFailure(request.log, error, 'speech stream failed');
        sse.send('error', publicError(error, `request ${request.id}`));
      } finally {
        sse.end();
      }
    },
  );
};

/**
 * Each item's speech as a WAV file, converted as it arrives (WavPieces) rather than all at the end,
 * when minutes of audio converted in one go held the event loop for hundreds of milliseconds.
 */
async function collectWavs(opened: OpenedSpeech): Promise<WavPieces[]> {
  const wavs = opened.items.map(() => new WavPieces(opened.sampleRate));
  for await (const event of opened.events)
    if (event.type === 'audio') await wavs[event.itemIndex].add(event.samples);
  return wavs;
}
