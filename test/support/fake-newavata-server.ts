import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { temporaryDirectory } from './temporary-directory.ts';

/** The body fields NewAvata's /api/v2/lipsync(/stream) reads; it ignores any others, as Flask does. */
export const LIPSYNC_FIELDS = new Set([
  'text',
  'avatar',
  'avatar_path',
  'tts_engine',
  'tts_voice',
  'quality',
  'resolution',
  'frame_skip',
  'output_format',
  'persist',
]);

export type FakeNewAvataMode =
  'ok' | 'error-event' | 'die-mid-stream' | 'garbage' | 'no-stream-endpoint' | 'busy' | 'not-mp4';

/** Which TTS spoke a render: our callback, or NewAvata's fallback after the callback failed. */
export type SpokenBy = 'qwen3tts' | 'cosyvoice';

export interface FakeNewAvataServer {
  url: string;
  mode: FakeNewAvataMode;
  /** Its prepared avatars. */
  avatars: string[];
  /** Bodies of the lip-sync requests it accepted. */
  requests: Record<string, unknown>[];
  /**
   * Where NewAvata calls back for speech (its QWEN3_TTS_API_URL) and the ref_audio it sends (its
   * QWEN3_TTS_REF_AUDIO, by default a Windows path). Unset: it never calls back, as when
   * QWEN3_TTS_API_URL points elsewhere.
   */
  callback?: { ttsUrl: string; referenceAudio?: string; referenceText?: string };
  /** The bodies it posted to /tts/voice_clone and the statuses it got. */
  callbacks: { query: string; body: Record<string, unknown>; status: number }[];
  /** Whether its fallback TTS works (CosyVoice installed); without it a failed callback ends in an error. */
  fallbackTts: boolean;
  spokenBy: SpokenBy[];
  /** How long the lip-sync stage takes, to watch load and cancellation. */
  lipsyncMs: number;
  /** Renders running now, the most at once, and the number finished. */
  active: number;
  maxActive: number;
  finished: number;
  close(): Promise<void>;
}

/** NewAvata's default QWEN3_TTS_REF_AUDIO. */
export const NEWAVATA_DEFAULT_REF_AUDIO = 'c:/Qwen3-TTS/sample(1).mp3';

/** NewAvata's text chunking for the Qwen3 callback: sentences grouped up to 200 characters. */
function chunksOf(text: string): string[] {
  if (text.length <= 200) return [text];
  const chunks: string[] = [];
  let current = '';
  for (const sentence of text.split(/(?<=[.!?。])\s+/)) {
    if (current && current.length + sentence.length + 1 > 200) {
      chunks.push(current);
      current = sentence;
    } else current = current ? `${current} ${sentence}` : sentence;
  }
  if (current) chunks.push(current);
  return chunks;
}

/**
 * A local NewAvata behaving as its code does (realtime-interview-avatar/app.py; SEED_CONTRACT.md):
 * Flask JSON parsing (HTML 415/400 for a body that is not JSON, HTML 404 for a missing route), a bare
 * avatar list, SSE `data:` lines with the stages tts → tts_done → lipsync → done, errors as an
 * `error` event on HTTP 200, an unknown avatar as a JSON 404. Its TTS calls /tts/voice_clone back
 * without checking /health first, up to three attempts per chunk, always as Korean with its own
 * ref_audio; when that fails it speaks with its fallback TTS and still renders.
 */
export async function startFakeNewAvata(): Promise<FakeNewAvataServer> {
  const directory = temporaryDirectory('fake-newavata-');
  const state: FakeNewAvataServer = {
    url: '',
    mode: 'ok',
    avatars: ['new_talk_short', 'new_talk_long'],
    requests: [],
    callbacks: [],
    fallbackTts: true,
    spokenBy: [],
    lipsyncMs: 0,
    active: 0,
    maxActive: 0,
    finished: 0,
    close: async () => {},
  };
  const json = (response: http.ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const html = (response: http.ServerResponse, status: number, title: string) => {
    response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    response.end(`<!doctype html>\n<html lang=en>\n<title>${title}</title>\n<h1>${title}</h1>\n`);
  };

  /** One chunk through our callback: three attempts, then undefined (the caller falls back). */
  async function callBack(text: string, size: string): Promise<Buffer | undefined> {
    const callback = state.callback!;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const body = {
        text,
        language: 'Korean',
        ref_audio: callback.referenceAudio ?? NEWAVATA_DEFAULT_REF_AUDIO,
        ref_text: callback.referenceText ?? '',
        split_sentences: false,
      };
      try {
        const response = await fetch(`${callback.ttsUrl}/tts/voice_clone?model_size=${size}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        const bytes = Buffer.from(await response.arrayBuffer());
        state.callbacks.push({ query: `model_size=${size}`, body, status: response.status });
        if (response.ok && /^audio\//.test(response.headers.get('content-type') ?? '')) return bytes;
      } catch {
        state.callbacks.push({ query: `model_size=${size}`, body, status: 0 });
      }
    }
    return undefined;
  }

  /** The speech of a render: our voice, or its fallback; throws 'TTS 생성 실패' when both fail. */
  async function speak(body: Record<string, unknown>): Promise<string> {
    const size = body.tts_voice === 'clone_1.7b' ? '1.7b' : '0.6b';
    const pieces: Buffer[] = [];
    if (state.callback && body.tts_engine === 'qwen3tts') {
      for (const chunk of chunksOf(String(body.text))) {
        const speech = await callBack(chunk, size);
        if (!speech) break;
        pieces.push(speech);
      }
      if (pieces.length === chunksOf(String(body.text)).length) {
        state.spokenBy.push('qwen3tts');
        // The first chunk's audio is enough for a test video.
        const file = path.join(directory, `speech_${state.requests.length}.wav`);
        writeFileSync(file, pieces[0]);
        return file;
      }
    }
    if (!state.fallbackTts) throw new Error('TTS 생성 실패');
    state.spokenBy.push('cosyvoice');
    return '';
  }

  async function render(speechFile: string): Promise<string> {
    await sleep(state.lipsyncMs);
    const name = `output_${state.requests.length}_${Date.now()}.mp4`;
    const audio = speechFile ? ['-i', speechFile] : ['-f', 'lavfi', '-i', 'sine=frequency=300:duration=1'];
    execFileSync(ffmpegPath(), [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=gray:s=64x64:r=25',
      ...audio,
      '-shortest',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-movflags',
      '+faststart',
      path.join(directory, name),
    ]);
    return `/video/${name}`;
  }

  /** Flask's request.json: a JSON content type and a parsable body, else an HTML error page. */
  function flaskJson(
    request: http.IncomingMessage,
    raw: Buffer,
    response: http.ServerResponse,
  ): Record<string, unknown> | undefined {
    if (!(request.headers['content-type'] ?? '').includes('application/json')) {
      html(response, 415, '415 Unsupported Media Type');
      return undefined;
    }
    try {
      return JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      html(response, 400, '400 Bad Request');
      return undefined;
    }
  }

  async function lipsync(stream: boolean, body: Record<string, unknown>, response: http.ServerResponse) {
    if (typeof body.text !== 'string' || body.text.trim() === '')
      return json(response, 400, { success: false, error: 'text is required' });
    const avatar = String(body.avatar ?? 'auto');
    if (avatar !== 'auto' && !state.avatars.includes(avatar))
      return json(
        response,
        404,
        stream
          ? { error: `Avatar not found: ${avatar}` }
          : { success: false, error: `Avatar not found: ${avatar}` },
      );
    if (state.mode === 'busy')
      return json(response, 503, { success: false, error: '모델이 로드되지 않았습니다' });
    state.requests.push(body);
    state.active += 1;
    state.maxActive = Math.max(state.maxActive, state.active);
    try {
      if (!stream) {
        try {
          const videoUrl = await render(await speak(body));
          return json(response, 200, { success: true, video_url: videoUrl, elapsed: 0.3, persistent: false });
        } catch (error) {
          return json(response, 500, { success: false, error: (error as Error).message });
        }
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (event: unknown) => response.write(`data: ${JSON.stringify(event)}\n\n`);
      send({ type: 'status', stage: 'tts', message: 'TTS 음성 생성 중...' });
      if (state.mode === 'garbage') return response.end('data: {not json\n\n');
      if (state.mode === 'die-mid-stream') return void setTimeout(() => response.destroy(), 50);
      if (state.mode === 'error-event') {
        send({ type: 'error', message: 'GPU out of memory' });
        return response.end();
      }
      try {
        const speech = await speak(body);
        send({ type: 'status', stage: 'tts_done', message: 'TTS 완료' });
        send({ type: 'status', stage: 'lipsync', message: '립싱크 비디오 생성 중...' });
        const videoUrl = await render(speech);
        send({ type: 'done', video_url: videoUrl, elapsed: { tts: 0.1, lipsync: 0.2, total: 0.3 } });
      } catch (error) {
        send({ type: 'error', message: (error as Error).message });
      }
      response.end();
    } finally {
      state.active -= 1;
      state.finished += 1;
    }
  }

  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = request.url ?? '';
    if (request.method === 'GET' && url === '/api/v2/status')
      return json(response, 200, {
        status: 'ok',
        models_loaded: true,
        available_avatars: state.avatars,
        tts_engines: ['cosyvoice', 'qwen3tts'],
      });
    if (request.method === 'GET' && url === '/api/avatars')
      return json(
        response,
        200,
        state.avatars.map((id) => ({ id, name: id, path: `precomputed/${id}.pkl`, preview: null })),
      );
    if (request.method === 'GET' && url.startsWith('/video/')) {
      if (state.mode === 'not-mp4') return html(response, 200, 'not a video');
      try {
        return response.end(readFileSync(path.join(directory, path.basename(decodeURIComponent(url)))));
      } catch {
        return html(response, 404, '404 Not Found');
      }
    }
    const stream = url === '/api/v2/lipsync/stream';
    if (request.method === 'POST' && (url === '/api/v2/lipsync' || stream)) {
      if (stream && state.mode === 'no-stream-endpoint') return html(response, 404, '404 Not Found');
      const body = flaskJson(request, Buffer.concat(chunks), response);
      if (body) await lipsync(stream, body, response);
      return;
    }
    html(response, 404, '404 Not Found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
