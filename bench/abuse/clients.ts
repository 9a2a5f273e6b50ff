import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import type { Outcomes } from './outcomes.ts';
import { queueRecordOf } from './queue-check.ts';

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
 * Where each kind of client connects from (the server sees 127.0.0.x as distinct clients): each
 * well-behaved client has its own address, while each kind of hostile client is one attacker.
 */
export const ADDRESSES = {
  normal: (index: number) => `127.0.1.${(index % 250) + 1}`,
  stalledReaders: '127.0.0.2',
  leavers: '127.0.0.3',
  abuser: '127.0.0.4',
};

/** A POST from a chosen source address; resolves with the response head, the body unread. */
function postFrom(
  url: string,
  body: string,
  from: string,
): { request: http.ClientRequest; response: Promise<http.IncomingMessage> } {
  const request = http.request(url, { method: 'POST', headers: json, localAddress: from });
  request.setTimeout(HUNG_MS, () => request.destroy(new Error('hung')));
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.on('response', resolve);
    request.on('error', reject);
  });
  request.end(body);
  return { request, response };
}

async function readAll(response: http.IncomingMessage): Promise<string> {
  response.setEncoding('latin1');
  let body = '';
  for await (const chunk of response) body += chunk as string;
  return body;
}

/**
 * A well-behaved client: speaks two sentences over SSE, reads everything, and on a 503 waits as
 * Retry-After says (at most 2 s here) before asking again.
 */
export async function normalClient(
  base: string,
  until: number,
  outcomes: Outcomes,
  from = '127.0.0.1',
): Promise<void> {
  while (Date.now() < until) {
    const startedAt = performance.now();
    try {
      const response = await postFrom(`${base}/tts/voice_clone/sse`, JSON.stringify(SPEECH_BODY), from)
        .response;
      if (response.statusCode === 503) {
        response.resume();
        const retryAfter = response.headers['retry-after'];
        outcomes.add(
          'normal',
          retryAfter ? '503 + Retry-After' : '503 without Retry-After',
          since(startedAt),
        );
        await sleep(Math.min(Number(retryAfter ?? 1), 2) * 1000);
        continue;
      }
      if (response.statusCode !== 200) {
        outcomes.add('normal', `HTTP ${response.statusCode}`);
        response.resume();
        continue;
      }
      outcomes.addQueue(queueRecordOf('normal', from, response.headers));
      outcomes.add('normal', ending(await readAll(response)), since(startedAt));
    } catch (error) {
      outcomes.add('normal', (error as Error).message === 'hung' ? 'hung' : 'connection error');
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
      const request = http.request(`${base}/tts/voice_clone/sse`, {
        method: 'POST',
        headers: json,
        localAddress: ADDRESSES.stalledReaders,
      });
      request.setTimeout(HUNG_MS, () => request.destroy(new Error('hung')));
      request.on('error', (error) => resolve(error.message === 'hung' ? 'hung' : 'connection error'));
      request.on('response', (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          return resolve(`HTTP ${response.statusCode}`);
        }
        outcomes.addQueue(queueRecordOf('stalled reader', ADDRESSES.stalledReaders, response.headers));
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
          // What was sent before a cut arrives at once; a stream still going was never cut off. It
          // is left then, so that it does not go on holding the engine after the test.
          setTimeout(() => {
            resolve('still streaming after the pause (never cut off)');
            request.destroy();
          }, 5000).unref();
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
    const { request, response: head } = postFrom(
      `${base}/tts/voice_clone/sse`,
      JSON.stringify({ ...SPEECH_BODY, text: longText(20) }),
      ADDRESSES.leavers,
    );
    try {
      const response = await head;
      if (response.statusCode !== 200) {
        outcomes.add('leaver', `HTTP ${response.statusCode}`);
        response.resume();
        await sleep(1000);
        continue;
      }
      outcomes.addQueue(queueRecordOf('leaver', ADDRESSES.leavers, response.headers));
      response.setEncoding('latin1');
      let body = '';
      for await (const chunk of response) {
        body += chunk as string;
        if (body.includes('event: audio')) break;
      }
      outcomes.add(
        'leaver',
        body.includes('event: audio') ? 'left after the first audio' : 'ended before audio',
      );
    } catch (error) {
      outcomes.add('leaver', (error as Error).message === 'hung' ? 'hung' : 'connection error');
    } finally {
      request.destroy();
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

/** A voice-cache filler (one of the attackers): every request has a transcript never seen before. */
export async function cacheFiller(base: string, until: number, outcomes: Outcomes): Promise<void> {
  for (let index = 0; Date.now() < until; index += 1) {
    const body = JSON.stringify({
      ...SPEECH_BODY,
      ref_text: `${SPEECH_BODY.ref_text} ${index} ${'다'.repeat(100)}`,
    });
    const status = await postFrom(`${base}/tts/voice_clone`, body, ADDRESSES.abuser).response.then(
      async (response) => {
        await readAll(response);
        outcomes.addQueue(queueRecordOf('new transcript', ADDRESSES.abuser, response.headers));
        return response.statusCode;
      },
      () => undefined,
    );
    outcomes.add('new transcript', status ? `HTTP ${status}` : 'connection error');
    if (status === 503) await sleep(1000);
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
