import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import type { Outcomes } from './outcomes.ts';

/** A request that takes this long is reported as hung. */
const HUNG_MS = 120000;

const json = { 'content-type': 'application/json' };

export const SPEECH_BODY = {
  text: '안녕하세요. 자기소개를 부탁드립니다.',
  language: 'Korean',
  ref_audio: 'sample(1).mp3',
  ref_text: '안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.',
};

/** A text of numbered sentences, long enough to keep the engine busy. */
export const longText = (sentences: number) =>
  Array.from({ length: sentences }, (_, i) => `${i + 1}번째 질문입니다.`).join(' ');

const since = (startedAt: number) => (performance.now() - startedAt) / 1000;

/** How an SSE body ended, from the client's side. */
function ending(body: string): string {
  if (body.includes('event: done')) return 'complete';
  if (body.includes('event: error')) return 'error event';
  return 'cut without an event';
}

/**
 * A well-behaved client: speaks two sentences over SSE, reads everything, and on a 503 waits as
 * Retry-After says (at most 2 s here) before asking again.
 */
export async function normalClient(base: string, until: number, outcomes: Outcomes): Promise<void> {
  while (Date.now() < until) {
    const startedAt = performance.now();
    try {
      const response = await fetch(`${base}/tts/voice_clone/sse`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(SPEECH_BODY),
        signal: AbortSignal.timeout(HUNG_MS),
      });
      if (response.status === 503) {
        await response.body?.cancel();
        const retryAfter = response.headers.get('retry-after');
        outcomes.add(
          'normal',
          retryAfter ? '503 + Retry-After' : '503 without Retry-After',
          since(startedAt),
        );
        await sleep(Math.min(Number(retryAfter ?? 1), 2) * 1000);
        continue;
      }
      if (response.status !== 200) {
        outcomes.add('normal', `HTTP ${response.status}`);
        await response.body?.cancel();
        continue;
      }
      outcomes.add('normal', ending(await response.text()), since(startedAt));
    } catch (error) {
      outcomes.add('normal', (error as Error).name === 'TimeoutError' ? 'hung' : 'connection error');
    }
  }
}

/**
 * A client on a dead link: after the first bytes it reads nothing for `stalledSeconds`, then reads
 * the rest at once to see how the stream ended. The server should have cut it off (no `done`) after
 * its stall timeout, having paused generation at its per-stream buffer meanwhile.
 */
export async function stalledReader(
  base: string,
  until: number,
  stalledSeconds: number,
  outcomes: Outcomes,
): Promise<void> {
  while (Date.now() < until) {
    const startedAt = performance.now();
    const outcome = await new Promise<string>((resolve) => {
      const request = http.request(`${base}/tts/voice_clone/sse`, { method: 'POST', headers: json });
      request.setTimeout(HUNG_MS, () => request.destroy(new Error('hung')));
      request.on('error', (error) => resolve(error.message === 'hung' ? 'hung' : 'connection error'));
      request.on('response', (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          return resolve(`HTTP ${response.statusCode}`);
        }
        // Nothing more leaves the kernel's buffers: the server's writes back up.
        response.socket.pause();
        response.pause();
        setTimeout(() => {
          let body = '';
          response.setEncoding('latin1');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            resolve(ending(body) === 'complete' ? 'complete (never cut off)' : 'cut off'),
          );
          response.on('error', () => resolve('cut off'));
          response.resume();
          response.socket.resume();
        }, stalledSeconds * 1000);
      });
      request.end(JSON.stringify({ ...SPEECH_BODY, text: longText(40) }));
    });
    outcomes.add('stalled reader', outcome, since(startedAt));
    if (outcome.startsWith('HTTP')) await sleep(1000);
  }
}

/** A client that leaves as soon as the first audio arrives, over and over. */
export async function leaver(base: string, until: number, outcomes: Outcomes): Promise<void> {
  while (Date.now() < until) {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(new Error('hung')), HUNG_MS);
    try {
      const response = await fetch(`${base}/tts/voice_clone/sse`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ ...SPEECH_BODY, text: longText(20) }),
        signal: controller.signal,
      });
      if (response.status !== 200) {
        outcomes.add('leaver', `HTTP ${response.status}`);
        await response.body?.cancel();
        await sleep(1000);
        continue;
      }
      const reader = response.body!.getReader();
      let body = '';
      while (!body.includes('event: audio')) {
        const { value, done } = await reader.read();
        if (done) break;
        body += new TextDecoder().decode(value);
      }
      controller.abort();
      outcomes.add('leaver', 'left after the first audio');
    } catch {
      outcomes.add('leaver', controller.signal.reason?.message === 'hung' ? 'hung' : 'connection error');
    } finally {
      clearTimeout(timeout);
    }
  }
}

interface Abuse {
  name: string;
  /** The status it must get; 0 where the server may also close the connection while it is sent. */
  expected: number[];
  send: () => Promise<number>;
}

/** Requests that must be refused quickly, before they cost the engine anything. */
export function abuses(base: string, trickleUrl: string): Abuse[] {
  const post = (body: string | Buffer, contentType = 'application/json') =>
    fetch(`${base}/tts/voice_clone`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
      signal: AbortSignal.timeout(HUNG_MS),
    }).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });
  return [
    {
      name: '1,000,000-character ref_text',
      expected: [413],
      send: () => post(JSON.stringify({ ...SPEECH_BODY, ref_text: '가'.repeat(1_000_000) })),
    },
    {
      name: '100,000-character text',
      expected: [413],
      send: () => post(JSON.stringify({ ...SPEECH_BODY, text: '가나다라. '.repeat(20_000) })),
    },
    {
      name: '40 MB body',
      expected: [413, 0],
      send: () => post(Buffer.alloc(40 << 20, 0x20)),
    },
    { name: 'text/plain body', expected: [415], send: () => post('hello', 'text/plain') },
    {
      name: 'ref_audio ../ path',
      expected: [400],
      send: () => post(JSON.stringify({ ...SPEECH_BODY, ref_audio: '../../etc/passwd' })),
    },
    {
      name: 'ref_audio URL at 1 byte/s',
      expected: [422],
      send: () => post(JSON.stringify({ ...SPEECH_BODY, ref_audio: trickleUrl })),
    },
  ];
}

/** Sends each abuse in turn until the end, recording whether it was refused as expected. */
export async function abuser(base: string, trickleUrl: string, until: number, outcomes: Outcomes) {
  while (Date.now() < until) {
    for (const abuse of abuses(base, trickleUrl)) {
      const startedAt = performance.now();
      const status = await abuse.send().catch(() => 0);
      const seen = status === 0 ? 'connection closed while sending' : String(status);
      outcomes.add(
        `abuse: ${abuse.name}`,
        abuse.expected.includes(status) ? `${seen} (as expected)` : `UNEXPECTED ${seen}`,
        since(startedAt),
      );
    }
  }
}

/** A voice-cache filler: every request has a transcript never seen before. */
export async function cacheFiller(base: string, until: number, outcomes: Outcomes): Promise<void> {
  for (let index = 0; Date.now() < until; index += 1) {
    const response = await fetch(`${base}/tts/voice_clone`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        ...SPEECH_BODY,
        ref_text: `${SPEECH_BODY.ref_text} ${index} ${'다'.repeat(100)}`,
      }),
      signal: AbortSignal.timeout(HUNG_MS),
    }).catch(() => undefined);
    await response?.arrayBuffer();
    outcomes.add('new transcript', response ? `HTTP ${response.status}` : 'connection error');
    if (response?.status === 503) await sleep(1000);
  }
}

/** WebSocket sessions that break the limits: too much text, too big a message, or silence. */
export async function websocketAbuse(
  base: string,
  kind: 'too much text' | '2 MB message' | 'idle',
  sessionTextLimit: number,
  outcomes: Outcomes,
): Promise<void> {
  const startedAt = performance.now();
  const socket = new WebSocket(`${base.replace('http', 'ws')}/v1/audio/speech/stream`);
  const code = await new Promise<number>((resolve) => {
    socket.on('error', () => resolve(0));
    socket.on('close', (closeCode) => resolve(closeCode));
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'session.config', voice: 'sample(1)', response_format: 'pcm' }));
      if (kind === 'too much text') {
        for (let sent = 0; sent <= sessionTextLimit; sent += 5000)
          socket.send(JSON.stringify({ type: 'input.text', text: '가'.repeat(5000) }));
      } else if (kind === '2 MB message') {
        socket.send(JSON.stringify({ type: 'input.text', text: 'a'.repeat(2 << 20) }));
      }
    });
    setTimeout(() => socket.terminate(), HUNG_MS).unref();
  });
  outcomes.add(`websocket: ${kind}`, code === 0 ? 'connection error' : `closed ${code}`, since(startedAt));
}

/** A server that sends one byte a second, for as long as the client stays. */
export async function startTrickleServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'audio/wav' });
    const timer = setInterval(() => response.write(Buffer.alloc(1)), 1000);
    response.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/voice.wav`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
