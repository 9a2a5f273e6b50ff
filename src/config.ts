import path from 'node:path';
import { z } from 'zod';
import { MODEL_KEYS } from './engines/interfaces/tts-engine.ts';

/**
 * Configuration is read once, here, from the environment (and `.env`, loaded by the CLI before this
 * runs). Names follow the seed's .env; everything else in the code receives the typed `Config`.
 */

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 'TRUE', 'FALSE', 'True', 'False'])
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value.toLowerCase()));

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'a number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//.test(value), 'an http:// or https:// URL')
  .transform((value) => value.replace(/\/+$/, ''));

/** TRUST_PROXY → Fastify's `trustProxy`: whom to believe about the client's address. */
function trustProxyFor(value: string): boolean | string[] | ((address: string, hop: number) => boolean) {
  // Spelled as the other booleans may be (True, TRUE): anything else is read as addresses.
  if (value === '' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return value.split(',').map((entry) => entry.trim());
}

/** A hub repository id, optionally pinned to a branch, tag or commit: `owner/name[@revision]`. */
const hubRepository = z
  .string()
  .regex(/^([A-Za-z0-9][\w.-]*\/[\w.-]+(@[\w./-]+)?)?$/, 'owner/name or owner/name@revision (or empty)');

/** Each entry: variable name → [schema, default as it would be written in .env, description]. */
const variables = {
  TTS_HOST: [z.string().min(1), '0.0.0.0', 'address to listen on'],
  TTS_PORT: [integer(0, 65535), '8000', 'port to listen on'],
  TTS_ENGINE: [
    z.enum(['embedded', 'vllm-omni']),
    'embedded',
    'speech engine: in-process ONNX, or a vLLM-Omni server',
  ],
  TTS_DEVICE: [
    z.string().regex(/^(cpu|cuda(:\d+)?|auto)$/, 'cpu, cuda, cuda:N or auto'),
    'auto',
    'cpu, cuda:N, or auto (cuda:0 when the CUDA provider is installed, else cpu)',
  ],
  TTS_DTYPE: [
    z.enum(['bfloat16', 'float16', 'float32', 'int8', 'int4']),
    'float32',
    'model precision variant to load: float32 (CPU), float16 (GPU), or int8 / int4 (weight-only quantized matmuls: faster on CPU; measure their drift on your checkpoint first, see docs/export.md)',
  ],
  TTS_USE_FLASH_ATTENTION: [
    booleanString,
    'false',
    'accepted for compatibility; has no effect on ONNX Runtime',
  ],
  TTS_DEFAULT_MODEL: [
    z.enum([...MODEL_KEYS, 'all', 'none']),
    'base_0.6b',
    'model loaded at startup; all loads every installed model, none loads on first use',
  ],
  TTS_TENSORRT: [
    booleanString,
    'false',
    'with CUDA: try the TensorRT provider first (engines are built on first use)',
  ],
  TTS_WORKERS: [integer(1, 64), '1', 'worker threads (model replicas) per loaded model'],
  TTS_THREADS: [integer(0, 256), '0', 'ONNX Runtime intra-op threads per worker (0 = let it choose)'],
  TTS_DECODER_THREADS: [
    integer(0, 256),
    '0',
    'ONNX Runtime intra-op threads of each worker’s codec decoder, which runs on a thread of its own beside generation (0 = let it choose)',
  ],
  TTS_THREAD_SPINNING: [
    booleanString,
    'false',
    'let ONNX Runtime’s threads spin while they wait for work (a busy wait: takes cores from other workers and the server)',
  ],
  TTS_DECODER_STATES: [
    integer(0, 4096),
    '8',
    'voices per worker whose streamed-decoder state after the reference speech is kept (about 5 MB each at the real sizes): their next streams skip decoding the reference again; 0: keep none',
  ],
  WORKER_NICENESS: [
    integer(0, 19),
    '10',
    'how much lower the model threads are scheduled than the server’s own (Linux nice steps): on busy cores HTTP and streaming go first; 0: the same',
  ],
  MODEL_DIR: [z.string().min(1), 'models', 'where `models pull` installs models'],
  MODEL_0_6B_BASE: [z.string(), '', 'directory of the base_0.6b model (default MODEL_DIR/base_0.6b)'],
  MODEL_1_7B_BASE: [z.string(), '', 'directory of the base_1.7b model (default MODEL_DIR/base_1.7b)'],
  HF_ENDPOINT: [httpUrl, 'https://huggingface.co', 'model hub for `models pull`'],
  HF_TOKEN: [z.string(), '', 'hub access token, if the repository needs one'],
  MODEL_REPO_BASE_0_6B: [
    hubRepository,
    '',
    'hub repository (owner/name[@revision]) with an export of base_0.6b in our layout; empty: models pull exports the official checkpoint',
  ],
  MODEL_REPO_BASE_1_7B: [
    hubRepository,
    '',
    'hub repository (owner/name[@revision]) with an export of base_1.7b in our layout; empty: models pull exports the official checkpoint',
  ],
  MODEL_REPO_MUSETALK: [
    hubRepository,
    '',
    'hub repository (owner/name[@revision]) with an export of MuseTalk in our layout (see the README: MuseTalk cannot be exported automatically)',
  ],
  EXPORT_PYTHON: [
    z.string(),
    '',
    'Python with the exporter’s requirements for models pull; empty: a virtual environment under MODEL_DIR is made',
  ],
  EXPORT_TORCH_INDEX: [
    z.string(),
    'https://download.pytorch.org/whl/cpu',
    'extra pip index for PyTorch in that environment (CPU builds); empty: only pip’s own configuration',
  ],
  VLLM_OMNI_URL: [httpUrl, 'http://localhost:8091', 'vLLM-Omni server (TTS_ENGINE=vllm-omni)'],
  VLLM_OMNI_API_KEY: [z.string(), '', 'bearer key for vLLM-Omni, if it was started with --api-key'],
  VLLM_OMNI_MODEL: [z.string(), '', 'model name to request from vLLM-Omni (default: the one it serves)'],
  ENABLE_VIDEO: [booleanString, 'false', 'registers the /video routes'],
  USE_NEWAVATA_API: [
    booleanString,
    'false',
    'true: video through a NewAvata service; false: embedded MuseTalk',
  ],
  NEWAVATA_API_URL: [httpUrl, 'http://localhost:8001', 'the NewAvata service'],
  NEWAVATA_REF_AUDIO: [
    z.string(),
    'c:/Qwen3-TTS/sample(1).mp3',
    'the ref_audio NewAvata sends when it calls /tts/voice_clone back (its QWEN3_TTS_REF_AUDIO); checked before each render',
  ],
  NEWAVATA_ALLOW_FALLBACK_VOICE: [
    booleanString,
    'false',
    'answer a NewAvata video even when NewAvata spoke it with its own fallback TTS (said in X-Voice-Fallback)',
  ],
  NEWAVATA_PATH: [z.string(), 'NewAvata', 'seed name kept as a fallback for MUSETALK_MODEL_DIR'],
  MUSETALK_MODEL_DIR: [z.string(), '', 'embedded lip-sync model directory (default MODEL_DIR/musetalk)'],
  VIDEO_AVATAR_DIR: [
    z.string().min(1),
    'avatars',
    'avatar photos and videos (MP4, MOV, WebM) a request may name',
  ],
  VIDEO_OUTPUT_DIR: [
    z.string().min(1),
    'output',
    'where videos rendered by /video/generate/sse are kept for download',
  ],
  VIDEO_OUTPUT_KEEP_S: [
    integer(60, 7 * 24 * 3600),
    '3600',
    'seconds a rendered video stays downloadable before it is deleted',
  ],
  WEBHOOK_SECRET: [
    z.string(),
    '',
    'signs video job callbacks: X-Signature = sha256 HMAC of "<X-Timestamp>.<body>"; empty: unsigned',
  ],
  WEBHOOK_ALLOW_PRIVATE_URLS: [
    booleanString,
    'false',
    'let callback_url reach loopback, private and link-local addresses (a backend on the same network)',
  ],
  REDIS_URL: [
    z.string().regex(/^(rediss?:\/\/\S+)?$/, 'a redis:// or rediss:// URL, or empty'),
    '',
    'with ENABLE_VIDEO: video jobs and their videos go through this Redis, shared by every server using it; empty: this process only',
  ],
  REDIS_QUEUE: [
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _'),
    'video-renders',
    'with REDIS_URL: the queue name; servers sharing it take each other’s video jobs',
  ],
  VIDEO_JOB_LOCK_S: [
    integer(1, 3600),
    '30',
    'with REDIS_URL: a server silent this long about a job it renders is taken for dead; another server takes the job over',
  ],
  VIDEO_MAX_UPLOAD_BYTES: [integer(1024, 1 << 30), '15728640', 'largest avatar upload (bytes)'],
  VIDEO_MAX_PIXELS: [integer(1024, 1 << 28), '40000000', 'largest avatar image (width × height)'],
  VIDEO_MAX_SIDE: [
    integer(64, 4096),
    '720',
    'longest side of rendered videos (larger photos are scaled down)',
  ],
  VIDEO_AVATAR_MAX_BYTES: [integer(1024, 1 << 30), '31457280', 'largest avatar video upload (bytes)'],
  VIDEO_AVATAR_MAX_SECONDS: [decimal(0.04, 600), '10', 'longest avatar video (seconds)'],
  VIDEO_AVATAR_MAX_FRAMES: [
    integer(1, 15000),
    '250',
    'most frames of an avatar video once resampled to 25 fps (each is prepared and kept)',
  ],
  VIDEO_AVATAR_MAX_PIXELS: [
    integer(1024, 1 << 28),
    '8294400',
    'largest avatar video frame (width × height, before scaling to VIDEO_MAX_SIDE)',
  ],
  VIDEO_BATCH_SIZE: [integer(1, 64), '8', 'frames per UNet/VAE batch'],
  REF_AUDIO_DIR: [
    z.string().min(1),
    'ref_audio',
    'where server-side reference audio lives (ref_audio paths)',
  ],
  REF_AUDIO_MAX_BYTES: [integer(1024, 1 << 30), '20971520', 'largest reference audio (bytes, any source)'],
  REF_AUDIO_MIN_SECONDS: [decimal(0.1, 60), '1', 'shortest reference audio'],
  REF_AUDIO_MAX_SECONDS: [decimal(1, 600), '60', 'longest reference audio'],
  REF_AUDIO_URL_TIMEOUT_MS: [integer(100, 600000), '15000', 'total time allowed to download a ref_audio URL'],
  REF_AUDIO_URL_MIN_BYTES_PER_S: [
    integer(0, 1 << 30),
    '8192',
    'a ref_audio URL that arrives slower than this on average (after 3 s) is given up; 0 for no minimum',
  ],
  REF_AUDIO_CONNECT_TIMEOUT_MS: [integer(100, 60000), '5000', 'time allowed to connect to a ref_audio URL'],
  REF_AUDIO_ALLOW_PRIVATE_URLS: [
    booleanString,
    'false',
    'allow ref_audio URLs on loopback, private and link-local addresses',
  ],
  MAX_TEXT_LENGTH: [
    integer(1, 1000000),
    '5000',
    'longest text per request (characters, all list items together)',
  ],
  MAX_REF_TEXT_LENGTH: [
    integer(1, 100000),
    '1000',
    'longest ref_text (characters); a transcript of REF_AUDIO_MAX_SECONDS of speech is far shorter',
  ],
  TTS_MAX_NEW_TOKENS: [
    integer(1, 8192),
    '4096',
    'most codec frames (80 ms each) per sentence; caps the model default and generation_params.max_new_tokens',
  ],
  SENTENCE_PAUSE_MS: [integer(0, 5000), '250', 'silence between sentences'],
  QUEUE_MAX_PENDING: [integer(0, 100000), '16', 'requests that may wait per engine before 503 + Retry-After'],
  QUEUE_CONCURRENCY: [integer(1, 1024), '1', 'requests an engine works on at once'],
  TRUST_PROXY: [
    z
      .string()
      .regex(/^(|true|false|\d+|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, 'empty, true, a hop count, or addresses')
      .transform(trustProxyFor),
    '',
    'behind a reverse proxy: true, the number of proxies, or their addresses/CIDRs (comma-separated), so X-Forwarded-For names the client (the queue is shared fairly between clients); empty: trust none',
  ],
  STREAM_STALL_TIMEOUT_S: [
    integer(1, 3600),
    '30',
    'a streaming response whose client takes no data for this long is ended (generation waits for slow readers meanwhile)',
  ],
  STREAM_IDLE_TIMEOUT_S: [
    integer(1, 3600),
    '60',
    'a WebSocket speech session that sends nothing for this long (with nothing left to speak) is closed',
  ],
  STREAM_SESSION_MAX_TEXT: [
    integer(1, 1000000),
    '20000',
    'most text one WebSocket speech session may send (characters, all messages together)',
  ],
  STREAM_MAX_SESSIONS: [
    integer(1, 100000),
    '64',
    'WebSocket speech sessions open at once; more are refused (close code 1013, try again later)',
  ],
  SHUTDOWN_GRACE_S: [
    integer(0, 3600),
    '10',
    'on SIGTERM/SIGINT, how long running requests may finish before they are ended with an error',
  ],
  REQUEST_TIMEOUT_MS: [integer(1000, 3600000), '600000', 'longest a synthesis may run'],
  MEMORY_RELEASE_IDLE_S: [
    integer(0, 3600),
    '10',
    'after work, seconds with none running before the server gives freed memory back to the system (a full garbage collection and glibc malloc_trim); 0: never',
  ],
  FFMPEG_PATH: [
    z.string(),
    '',
    'ffmpeg binary, used as given; empty: ffmpeg on PATH if 5.1 or newer with the needed encoders, else the old one the npm package ships (see the README)',
  ],
  PRONUNCIATION_LEXICON_FILE: [z.string(), '', 'JSON file {"word": "reading"} applied to every request'],
  CACHE_DIR: [z.string().min(1), 'cache', 'voice prompts, prepared avatars and finished renders'],
  VOICE_CACHE_DISK_MB: [
    integer(0, 1000000),
    '256',
    'voice prompts kept in CACHE_DIR/voices (MB, least recently used out; a few KB each)',
  ],
  AVATAR_CACHE_DISK_MB: [
    integer(0, 1000000),
    '2048',
    'prepared avatars kept in CACHE_DIR/avatars (MB, least recently used out)',
  ],
  VIDEO_CACHE_MB: [
    integer(0, 10000000),
    '1024',
    'finished renders kept in CACHE_DIR/renders (MB, least recently used out): a request identical in text, voice, seed, avatar and models is answered from there (X-Cache: hit); 0: keep none',
  ],
  CORS_ORIGINS: [
    z.string().min(1),
    '*',
    'browser origins allowed to call the API, comma-separated (these get credentials); * for any, without credentials',
  ],
  API_KEY: [
    z.string(),
    '',
    'if set, every API request must send it (Authorization: Bearer or X-API-Key); empty: no key',
  ],
  LOG_LEVEL: [z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info', 'log level'],
  LOG_FORMAT: [
    z.enum(['auto', 'json', 'pretty']),
    'auto',
    'log lines as JSON or readable one-liners; auto: readable when standard output is a terminal',
  ],
  TTS_WARMUP: [
    booleanString,
    'true',
    'run each preloaded model once at startup, so the first request is not slowed by first-run costs',
  ],
  METRICS_ENABLED: [booleanString, 'true', 'serve Prometheus metrics at /metrics'],
  SPEECH_CACHE_MB: [
    integer(0, 65536),
    '256',
    'memory for finished speech of requests that set a seed, replayed when asked again (0 = off)',
  ],
} as const satisfies Record<string, readonly [z.ZodType<unknown, string>, string, string]>;

type Variables = typeof variables;
export type Config = { [K in keyof Variables]: z.output<Variables[K][0]> };
export type ConfigName = keyof Variables;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Every variable with its default and meaning, for `.env.example` and `--help`. */
export function describeConfig(): { name: ConfigName; defaultValue: string; description: string }[] {
  return (Object.keys(variables) as ConfigName[]).map((name) => ({
    name,
    defaultValue: variables[name][1],
    description: variables[name][2],
  }));
}

/** Parses the environment; a bad value names the variable and what it accepts. */
export function loadConfig(environment: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const name of Object.keys(variables) as ConfigName[]) {
    const [schema, defaultValue] = variables[name];
    const raw = environment[name]?.trim();
    const parsed = (schema as z.ZodType<unknown, string>).safeParse(
      raw === undefined || raw === '' ? defaultValue : raw,
    );
    if (parsed.success) {
      result[name] = parsed.data;
    } else {
      const expected = parsed.error.issues.map((issue) => issue.message).join('; ');
      problems.push(`${name}=${JSON.stringify(raw)} is not valid: ${expected}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as Config;
}

/** Directory of an installed model: the explicit variable, else MODEL_DIR/<key>. */
export function modelDirectory(config: Config, key: 'base_0.6b' | 'base_1.7b' | 'musetalk'): string {
  const explicit =
    key === 'base_0.6b'
      ? config.MODEL_0_6B_BASE
      : key === 'base_1.7b'
        ? config.MODEL_1_7B_BASE
        : config.MUSETALK_MODEL_DIR;
  return path.resolve(explicit || path.join(config.MODEL_DIR, key));
}
