import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';

/** The body fields of NewAvata's /api/v2/lipsync(/stream); anything else is a typo on our side. */
const LIPSYNC_FIELDS = new Set([
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

export interface FakeNewAvataServer {
  url: string;
  mode: FakeNewAvataMode;
  requests: Record<string, unknown>[];
  /** Where NewAvata calls back for speech (QWEN3_TTS_API_URL), and the reference it sends. */
  callback?: { ttsUrl: string; referenceUrl: string; referenceText: string };
  callbackStatuses: number[];
  close(): Promise<void>;
}

/**
 * A local NewAvata speaking its real protocol (SEED_CONTRACT.md; realtime-interview-avatar/app.py):
 * GET /api/v2/status, GET /api/avatars (a bare array), POST /api/v2/lipsync/stream (SSE `data:` lines),
 * POST /api/v2/lipsync, GET /video/<file>. With tts_engine=qwen3tts it calls the TTS server back as
 * NewAvata does and muxes the returned speech into a real MP4.
 */
export async function startFakeNewAvata(): Promise<FakeNewAvataServer> {
  const directory = mkdtempSync(path.join(tmpdir(), 'fake-newavata-'));
  const state: FakeNewAvataServer = {
    url: '',
    mode: 'ok',
    requests: [],
    callbackStatuses: [],
    close: async () => {},
  };
  const json = (response: http.ServerResponse, status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  async function speechFor(body: Record<string, unknown>): Promise<Buffer | undefined> {
    if (!state.callback || body.tts_engine !== 'qwen3tts') return undefined;
    const size = body.tts_voice === 'clone_1.7b' ? '1.7b' : '0.6b';
    const health = await fetch(`${state.callback.ttsUrl}/health`);
    if (health.status !== 200) throw new Error('TTS server unhealthy');
    const response = await fetch(`${state.callback.ttsUrl}/tts/voice_clone?model_size=${size}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        text: body.text,
        language: 'Korean',
        ref_audio: state.callback.referenceUrl,
        ref_text: state.callback.referenceText,
        split_sentences: false,
      }),
    });
    state.callbackStatuses.push(response.status);
    if (!response.ok || !/^audio\//.test(response.headers.get('content-type') ?? ''))
      throw new Error(`TTS callback failed: ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }

  function render(speech: Buffer | undefined): string {
    const name = `video_${state.requests.length}.mp4`;
    const output = path.join(directory, name);
    const audioArgs = speech
      ? (writeFileSync(path.join(directory, 'speech.wav'), speech),
        ['-i', path.join(directory, 'speech.wav')])
      : ['-f', 'lavfi', '-i', 'sine=frequency=200:duration=1'];
    execFileSync(ffmpegPath(), [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'color=c=gray:s=64x64:r=25',
      ...audioArgs,
      '-shortest',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-movflags',
      '+faststart',
      output,
    ]);
    return `/video/${name}`;
  }

  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const url = request.url ?? '';
    if (request.method === 'GET' && url === '/api/v2/status')
      return json(response, 200, {
        status: 'ok',
        models_loaded: true,
        available_avatars: ['new_talk_short'],
        tts_engines: ['cosyvoice', 'qwen3tts'],
      });
    if (request.method === 'GET' && url === '/api/avatars')
      return json(response, 200, [
        { id: 'new_talk_short', name: 'new_talk_short', path: 'precomputed/a.pkl', preview: null },
        { id: 'new_talk_long', name: 'new_talk_long', path: 'precomputed/b.pkl', preview: null },
      ]);
    if (request.method === 'GET' && url.startsWith('/video/')) {
      if (state.mode === 'not-mp4') return response.end('<html>not found</html>');
      try {
        return response.end(readFileSync(path.join(directory, path.basename(decodeURIComponent(url)))));
      } catch {
        return json(response, 404, { success: false, error: 'not found' });
      }
    }
    if (request.method === 'POST' && (url === '/api/v2/lipsync' || url === '/api/v2/lipsync/stream')) {
      if (url.endsWith('/stream') && state.mode === 'no-stream-endpoint')
        return json(response, 404, { success: false, error: 'Not Found' });
      if (state.mode === 'busy')
        return json(response, 503, { success: false, error: '모델이 로드되지 않았습니다' });
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return json(response, 400, { success: false, error: 'invalid JSON' });
      }
      const unknown = Object.keys(body).filter((key) => !LIPSYNC_FIELDS.has(key));
      if (unknown.length > 0)
        return json(response, 400, { success: false, error: `unknown field ${unknown[0]}` });
      if (typeof body.text !== 'string' || body.text === '')
        return json(response, 400, { success: false, error: 'text is required' });
      if (
        body.tts_engine !== undefined &&
        !['cosyvoice', 'qwen3tts', 'elevenlabs'].includes(String(body.tts_engine))
      )
        return json(response, 400, { success: false, error: 'unknown tts_engine' });
      if (body.tts_engine === 'qwen3tts' && !['clone_0.6b', 'clone_1.7b'].includes(String(body.tts_voice)))
        return json(response, 400, { success: false, error: 'unknown tts_voice' });
      if (
        body.avatar !== undefined &&
        !['auto', 'new_talk_short', 'new_talk_long'].includes(String(body.avatar))
      )
        return json(response, 404, { success: false, error: `avatar ${String(body.avatar)} not found` });
      state.requests.push(body);
      if (!url.endsWith('/stream')) {
        try {
          return json(response, 200, {
            success: true,
            video_path: 'results/x.mp4',
            video_url: render(await speechFor(body)),
            elapsed: 1.2,
            persistent: false,
          });
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
        const speech = await speechFor(body);
        send({ type: 'status', stage: 'tts_done', message: 'TTS 완료', duration: 1 });
        send({ type: 'status', stage: 'lipsync', message: '립싱크 비디오 생성 중...' });
        const videoUrl = render(speech);
        send({
          type: 'done',
          video_url: videoUrl,
          persistent: false,
          elapsed: { tts: 0.1, lipsync: 0.2, total: 0.3 },
        });
      } catch (error) {
        send({ type: 'error', message: (error as Error).message });
      }
      return response.end();
    }
    json(response, 404, { success: false, error: 'Not Found' });
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
