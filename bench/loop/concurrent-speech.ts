import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { FROM_SOURCES, startServerProcess, type ServerProcess } from '../abuse/server-process.ts';
import type { LoopReport } from './loop-report.ts';

/** Every way the server hands out speech: whole answers and each streaming protocol. */
export const SPEECH_ROUTES = ['wav', 'json', 'sse', 'sse-whole', 'http', 'ws'] as const;
export type SpeechRoute = (typeof SPEECH_ROUTES)[number];

export interface SpeechClientOptions {
  base: string;
  text: string;
  /** A file in the server's REF_AUDIO_DIR, and what it says. */
  referenceAudio: string;
  referenceText: string;
  timeoutMs: number;
}

/** Asks for `text` over `route`, reads the whole answer, and resolves with its size in bytes. */
export async function speakOver(route: SpeechRoute, options: SpeechClientOptions): Promise<number> {
  const { base, text, timeoutMs } = options;
  const reference = { ref_audio: options.referenceAudio, ref_text: options.referenceText };
  if (route === 'ws') return speakOverWebSocket(options);
  const [path, body] =
    route === 'http'
      ? ['/v1/audio/speech', { input: text, ...reference, response_format: 'wav' }]
      : route === 'sse' || route === 'sse-whole'
        ? [`/tts/voice_clone/sse?streaming=${route === 'sse'}`, { text, ...reference }]
        : ['/tts/voice_clone', { text: route === 'json' ? [text] : text, ...reference }];
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ language: 'Korean', ...body }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200)
    throw new Error(`${route}: ${response.status} ${bytes.toString().slice(0, 300)}`);
  if (route.startsWith('sse') && !bytes.includes('event: done')) throw new Error(`${route}: no done event`);
  return bytes.length;
}

function speakOverWebSocket({ base, text, timeoutMs, ...options }: SpeechClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/audio/speech/stream`);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error('ws: no session.done in time'));
    }, timeoutMs);
    let bytes = 0;
    socket.on('open', () => {
      const config = { ref_audio: options.referenceAudio, ref_text: options.referenceText };
      socket.send(
        JSON.stringify({ type: 'session.config', language: 'Korean', ...config, stream_audio: true }),
      );
      socket.send(JSON.stringify({ type: 'input.text', text }));
      socket.send(JSON.stringify({ type: 'input.done' }));
    });
    socket.on('message', (data: Buffer, binary: boolean) => {
      if (binary) return void (bytes += data.length);
      const message = JSON.parse(String(data)) as { type: string };
      if (message.type === 'error') reject(new Error(`ws: ${String(data)}`));
      if (message.type !== 'session.done') return;
      clearTimeout(timer);
      socket.close();
      resolve(bytes);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A server process with loop-monitor.mjs preloaded, and a way to read what the monitor saw. */
export interface MonitoredServer {
  server: ServerProcess;
  /** What the loop went through since the previous call (the first call starts the window). */
  loopReport(): Promise<LoopReport>;
}

export async function startMonitoredServer(
  environment: Record<string, string>,
  reportFile: string,
): Promise<MonitoredServer> {
  const monitor = fileURLToPath(new URL('./loop-monitor.mjs', import.meta.url));
  // The monitor before tsx: it is plain JavaScript, also loaded (and idle) in the model workers.
  const [node, ...rest] = FROM_SOURCES;
  const command = [node, '--import', monitor, ...rest];
  rmSync(reportFile, { force: true }); // a report left by an earlier server would be read as this one's
  const server = await startServerProcess({ ...environment, LOOP_MONITOR_FILE: reportFile }, command);
  let sequence = 0;
  const loopReport = async () => {
    process.kill(server.pid, 'SIGUSR2');
    const deadline = Date.now() + 10000;
    for (;;) {
      if (existsSync(reportFile)) {
        const report = JSON.parse(readFileSync(reportFile, 'utf8')) as LoopReport;
        if (report.sequence > sequence) {
          sequence = report.sequence;
          return report;
        }
      }
      if (Date.now() > deadline)
        throw new Error(`the server wrote no loop report: ${server.output().slice(-2000)}`);
      await sleep(20);
    }
  };
  return { server, loopReport };
}
