import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ffmpegPath } from '../../src/media/ffmpeg.ts';
import { writeSyntheticQwen3Model } from '../../src/models/synth-qwen3.ts';
import { speakOver, startMonitoredServer, type SpeechRoute } from './concurrent-speech.ts';
import { describeStall, worstOutsideGcMs, worstOwnMs, type LoopReport } from './loop-report.ts';

export interface LoopLagOptions {
  size: 'tiny' | 'real';
  dtype: 'float32' | 'int8' | 'int4';
  /** Requests at once on each route. */
  concurrent: number;
  routes: readonly SpeechRoute[];
  /** Frames per sentence (TTS_MAX_NEW_TOKENS: a synthetic model never ends a sentence by itself). */
  frames: number;
  sentences: number;
  workers: number;
  /** All routes' requests at once in one window, instead of one route after another. */
  together?: boolean;
  timeoutMs: number;
  /** Where the model and the server's folders go; default a fresh temporary folder, removed after. */
  scratch?: string;
}

export interface RouteLag {
  route: SpeechRoute | 'together';
  seconds: number;
  bytes: number[];
  report: LoopReport;
}

const REFERENCE_TEXT = '안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.';

/** Numbered sentences with a date, a time and an amount, so that the text normalizer has work too. */
export const sentences = (count: number): string =>
  Array.from(
    { length: count },
    (_, index) =>
      `${index + 1}번째 질문입니다, 2024년 3월 ${index + 1}일 오후 3시 30분에 12,500원을 냈습니다.`,
  ).join(' ');

/**
 * A server process on a synthetic model, with its event loop watched (loop-monitor.mjs), answering
 * `concurrent` long syntheses at once on each route in turn; for each route, what the loop went
 * through while they ran (model loading and warm-up are left out).
 */
export async function measureLoopLag(
  options: LoopLagOptions,
  log: (line: string) => void = () => {},
): Promise<RouteLag[]> {
  const scratch = options.scratch ?? mkdtempSync(path.join(tmpdir(), 'loop-lag-'));
  const model = path.join(scratch, `model-${options.size}-${options.dtype}`);
  const references = path.join(scratch, 'ref_audio');
  mkdirSync(references, { recursive: true });
  log(`writing a synthetic ${options.size} model (${options.dtype}) …`);
  // A real-size model takes minutes to write: one left in a given scratch folder is used again.
  if (!options.scratch || !existsSync(path.join(model, 'manifest.json')))
    await writeSyntheticQwen3Model(model, {
      key: 'base_0.6b',
      dtype: options.dtype,
      size: options.size,
      eosPosition: 1_000_000,
    });
  // 44.1 kHz, as recordings often are: the server resamples it (once; it is cached after that).
  execFileSync(ffmpegPath(), [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=44100:duration=4'],
    ...['-ac', '1', path.join(references, 'reference.wav')],
  ]);
  const { server, loopReport } = await startMonitoredServer(
    {
      MODEL_0_6B_BASE: model,
      TTS_DTYPE: options.dtype,
      TTS_WORKERS: String(options.workers),
      QUEUE_CONCURRENCY: String(options.concurrent * (options.together ? options.routes.length : 1)),
      TTS_MAX_NEW_TOKENS: String(options.frames),
      REF_AUDIO_DIR: references,
      CACHE_DIR: path.join(scratch, 'cache'),
      VIDEO_OUTPUT_DIR: path.join(scratch, 'videos'),
      REQUEST_TIMEOUT_MS: String(options.timeoutMs),
      LOG_LEVEL: 'error',
    },
    path.join(scratch, 'loop-report.json'),
  );
  const client = {
    base: server.base,
    referenceAudio: 'reference.wav',
    referenceText: REFERENCE_TEXT,
    timeoutMs: options.timeoutMs,
  };
  try {
    log('warming up …');
    const warmUp = await fetch(`${server.base}/tts/voice_clone`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        text: '안녕하세요.',
        ref_audio: client.referenceAudio,
        ref_text: REFERENCE_TEXT,
        generation_params: { max_new_tokens: 4 },
      }),
    });
    if (warmUp.status !== 200) throw new Error(`warm-up: ${warmUp.status} ${await warmUp.text()}`);
    const results: RouteLag[] = [];
    const windows = options.together ? [options.routes] : options.routes.map((route) => [route]);
    for (const routes of windows) {
      await loopReport(); // starts the window
      const startedAt = performance.now();
      const bytes = await Promise.all(
        routes.flatMap((route) =>
          Array.from({ length: options.concurrent }, () =>
            speakOver(route, { ...client, text: sentences(options.sentences) }),
          ),
        ),
      );
      const seconds = (performance.now() - startedAt) / 1000;
      const route = routes.length === 1 ? routes[0] : 'together';
      results.push({ route, seconds, bytes, report: await loopReport() });
      log(describeRouteLag(results[results.length - 1]));
    }
    return results;
  } finally {
    await server.terminate(30000);
    if (!options.scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

export function describeRouteLag({ route, seconds, bytes, report }: RouteLag): string {
  const [worst] = report.stalls;
  // The longest stall may be a garbage collection rather than the code's work: both are shown.
  const [longest] = [...report.stalls].sort((a, b) => b.ownMs - a.ownMs);
  return (
    `${route.padEnd(9)} ${bytes.length} at once, ${seconds.toFixed(1).padStart(6)} s: loop delay p99 ${report.p99Ms.toFixed(1)} ms, ` +
    `max ${report.maxMs.toFixed(1)} ms; worst time on the loop ${worstOwnMs(report).toFixed(0)} ms, ` +
    `outside garbage collection ${worstOutsideGcMs(report).toFixed(0)} ms` +
    (worst ? `\n    worst outside collections: ${describeStall(worst)}` : '') +
    (longest && longest !== worst ? `\n    longest on the loop: ${describeStall(longest)}` : '')
  );
}
