import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The fields of vLLM-Omni's OpenAICreateSpeechRequest; anything else is a typo on our side. */
const SPEECH_FIELDS = new Set([
  'input',
  'model',
  'voice',
  'speaker',
  'instructions',
  'response_format',
  'speed',
  'stream_format',
  'stream',
  'task_type',
  'language',
  'ref_audio',
  'ref_text',
  'x_vector_only_mode',
  'speaker_embedding',
  'max_new_tokens',
  'seed',
  'initial_codec_chunk_frames',
  'extra_params',
]);

export type FakeVllmMode =
  | 'ok'
  | 'die-mid-stream'
  | 'slow'
  | 'garbage'
  | 'overloaded'
  | 'rate-limited'
  | 'no-voice-store'
  | 'bad-request';

export interface FakeVllmServer {
  url: string;
  mode: FakeVllmMode;
  speechRequests: Record<string, unknown>[];
  uploads: { name: string; consent: string; refText?: string; bytes: number }[];
  /** Answer this many speech requests with 502 (a gateway hiccup) before behaving normally. */
  failFirst: number;
  /** Forgets uploaded voices, as a restarted server does. */
  forgetVoices(): void;
  close(): Promise<void>;
}

/**
 * A local server speaking vLLM-Omni's real protocol (docs/serving/speech_api.md and
 * protocol/audio.py): GET /health, GET /v1/models, POST /v1/audio/voices (multipart), and
 * POST /v1/audio/speech streaming raw s16le PCM at 24 kHz. It validates requests strictly.
 */
export async function startFakeVllmOmni(model = 'Qwen/Qwen3-TTS-12Hz-1.7B-Base'): Promise<FakeVllmServer> {
  const voices = new Set<string>();
  const state: FakeVllmServer = {
    url: '',
    mode: 'ok',
    speechRequests: [],
    uploads: [],
    failFirst: 0,
    forgetVoices: () => voices.clear(),
    close: async () => {},
  };
  const json = (
    response: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
  const error = (
    response: http.ServerResponse,
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ) =>
    json(
      response,
      status,
      { error: { message, type: 'BadRequestError', param: null, code: status } },
      headers,
    );

  const server = http.createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (request.method === 'GET' && request.url === '/health') return response.end();
    if (request.method === 'GET' && request.url === '/v1/models')
      return json(response, 200, { object: 'list', data: [{ id: model, object: 'model' }] });
    if (request.method === 'POST' && request.url === '/v1/audio/voices') {
      if (state.mode === 'no-voice-store') return error(response, 404, 'Not Found');
      const text = raw.toString('latin1');
      const field = (name: string) => new RegExp(`name="${name}"\\r\\n\\r\\n([^\\r]*)`).exec(text)?.[1];
      const name = field('name');
      const consent = field('consent');
      if (!/name="audio_sample"; filename=/.test(text) || !name || !consent)
        return error(response, 400, 'audio_sample, consent and name are required');
      if (voices.has(name)) return error(response, 400, `Voice '${name}' already exists`);
      voices.add(name);
      const refText = field('ref_text');
      state.uploads.push({
        name,
        consent,
        refText: refText ? Buffer.from(refText, 'latin1').toString('utf8') : undefined,
        bytes: raw.length,
      });
      return json(response, 200, {
        success: true,
        voice: { name, consent, created_at: 1, mime_type: 'audio/wav', file_size: raw.length },
      });
    }
    if (request.method === 'POST' && request.url === '/v1/audio/speech') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return error(response, 400, 'invalid JSON');
      }
      const unknown = Object.keys(body).filter((key) => !SPEECH_FIELDS.has(key));
      if (unknown.length > 0)
        return json(response, 422, {
          detail: [
            { type: 'extra_forbidden', loc: ['body', unknown[0]], msg: 'Extra inputs are not permitted' },
          ],
        });
      if (typeof body.input !== 'string' || body.input === '')
        return error(response, 400, 'input is required');
      if (body.stream && !['pcm', 'wav'].includes(String(body.response_format)))
        return error(response, 400, "Streaming (stream=true) requires response_format='pcm' or 'wav'.");
      if (body.voice !== undefined && !voices.has(String(body.voice)))
        return error(response, 400, `Unknown voice ${String(body.voice)}`);
      if (body.task_type === 'Base' && body.voice === undefined && body.ref_audio === undefined)
        return error(response, 400, 'Base task requires ref_audio or an uploaded voice');
      state.speechRequests.push(body);
      if (state.failFirst > 0) {
        state.failFirst -= 1;
        return error(response, 502, 'Bad gateway');
      }
      if (state.mode === 'overloaded')
        return error(response, 503, 'Server overloaded: max_num_seqs reached', { 'retry-after': '7' });
      if (state.mode === 'rate-limited')
        return error(response, 429, 'Too many requests', { 'retry-after': '3' });
      if (state.mode === 'bad-request') return error(response, 400, 'language Klingon is not supported');
      if (state.mode === 'garbage') {
        response.writeHead(200, { 'content-type': 'text/html' });
        return response.end('<html>proxy error</html>');
      }
      response.writeHead(200, { 'content-type': 'audio/pcm' });
      const seed = Number(body.seed ?? 0);
      const chunk = (index: number) => {
        const pcm = Buffer.alloc(4801); // an odd length, so samples straddle chunk boundaries
        for (let i = 0; i + 1 < pcm.length; i += 2)
          pcm.writeInt16LE(Math.round(8000 * Math.sin((i + index * 4800) / (20 + (seed % 7)))), i);
        return pcm;
      };
      const parts = state.mode === 'die-mid-stream' ? 2 : 4;
      for (let index = 0; index < parts; index += 1) {
        if (state.mode === 'slow') await new Promise((resolve) => setTimeout(resolve, 400));
        response.write(chunk(index));
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (state.mode === 'die-mid-stream') return response.destroy();
      return response.end(Buffer.alloc(3)); // the odd bytes complete the last sample
    }
    error(response, 404, 'Not Found');
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
