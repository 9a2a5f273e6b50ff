import { createHash } from 'node:crypto';
import { realpath, stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { assessReference } from '../audio/reference-quality.ts';
import { decodeWav } from '../audio/wav.ts';
import { resampleInSlices } from '../audio/resample.ts';
import type { Config } from '../config.ts';
import type { ReferenceAudio } from '../engines/interfaces/tts-engine.ts';
import { InvalidInputError } from '../errors.ts';
import { decodeAudioWithFfmpeg } from '../media/ffmpeg.ts';
import { safeDownload, type Resolver } from './safe-download.ts';

export interface ReferenceAudioOptions {
  directory: string;
  maxBytes: number;
  minSeconds: number;
  maxSeconds: number;
  urlTimeoutMs: number;
  /** A URL slower than this on average is given up (0: no minimum). */
  urlMinBytesPerSecond?: number;
  connectTimeoutMs: number;
  allowPrivateUrls: boolean;
  /** Decoded references kept in memory, in bytes of samples. */
  cacheBytes?: number;
  /** For tests: host name resolution for URLs. */
  resolver?: Resolver;
}

export function referenceAudioOptionsFromConfig(config: Config): ReferenceAudioOptions {
  return {
    directory: config.REF_AUDIO_DIR,
    maxBytes: config.REF_AUDIO_MAX_BYTES,
    minSeconds: config.REF_AUDIO_MIN_SECONDS,
    maxSeconds: config.REF_AUDIO_MAX_SECONDS,
    urlTimeoutMs: config.REF_AUDIO_URL_TIMEOUT_MS,
    urlMinBytesPerSecond: config.REF_AUDIO_URL_MIN_BYTES_PER_S,
    connectTimeoutMs: config.REF_AUDIO_CONNECT_TIMEOUT_MS,
    allowPrivateUrls: config.REF_AUDIO_ALLOW_PRIVATE_URLS,
  };
}

const SAMPLE_RATE = 24000;

/** The container, told by the first bytes rather than a file name or a declared type. */
export function sniffAudioFormat(bytes: Buffer): 'wav' | 'mp3' | 'flac' | 'ogg' | 'm4a' | 'webm' | undefined {
  if (bytes.length < 12) return undefined;
  const ascii = (start: number, end: number) => bytes.toString('latin1', start, end);
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(4, 8) === 'ftyp') return 'm4a';
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  if (ascii(0, 3) === 'ID3') return 'mp3';
  if (bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0) return 'mp3';
  return undefined;
}

const MEDIA_TYPES = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  m4a: 'audio/mp4',
  webm: 'audio/webm',
};

/**
 * Resolves the seed's ref_audio (a path inside REF_AUDIO_DIR, an http(s) URL, or base64 / a data URL)
 * into mono 24 kHz audio, within the configured limits, with decoded results cached by content hash.
 */
export class ReferenceAudioResolver {
  private readonly cache = new Map<string, ReferenceAudio>();
  private cachedBytes = 0;

  constructor(private readonly options: ReferenceAudioOptions) {}

  async resolve(value: string, signal: AbortSignal): Promise<ReferenceAudio> {
    const trimmed = value.trim();
    return this.decodeBytes(await this.fetchBytes(trimmed, signal), signal);
  }

  /**
   * Checks and decodes audio already in hand (an upload) within the same limits as `resolve`;
   * `field` names the input in error messages.
   */
  async decodeBytes(bytes: Buffer, signal: AbortSignal, field = 'ref_audio'): Promise<ReferenceAudio> {
    if (bytes.length > this.options.maxBytes) {
      throw new InvalidInputError(
        `${field} is ${bytes.length} bytes; the limit is ${this.options.maxBytes} (REF_AUDIO_MAX_BYTES). Send a shorter recording.`,
        { code: 'ref_audio_too_large', statusCode: 413 },
      );
    }
    const key = createHash('sha256').update(bytes).digest('hex');
    const cached = this.cache.get(key);
    if (cached) {
      // Refresh its place in the LRU order.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const decoded = await this.decode(bytes, signal, field);
    this.remember(key, decoded);
    return decoded;
  }

  private async fetchBytes(value: string, signal: AbortSignal): Promise<Buffer> {
    if (value === '') throw new InvalidInputError('ref_audio is empty', { code: 'invalid_ref_audio' });
    const dataUrl = /^data:([\w/+.-]*)(;[\w=-]+)*;base64,/i.exec(value);
    if (dataUrl) return decodeBase64(value.slice(dataUrl[0].length));
    if (/^https?:\/\//i.test(value)) {
      const { bytes } = await safeDownload(value, {
        maxBytes: this.options.maxBytes,
        connectTimeoutMs: this.options.connectTimeoutMs,
        totalTimeoutMs: this.options.urlTimeoutMs,
        minBytesPerSecond: this.options.urlMinBytesPerSecond,
        allowPrivateAddresses: this.options.allowPrivateUrls,
        signal,
        resolver: this.options.resolver,
      });
      return bytes;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      throw new InvalidInputError('ref_audio URLs must be http:// or https://', {
        code: 'invalid_ref_audio',
      });
    }
    if (looksLikeBase64(value)) return decodeBase64(value);
    return this.readLocalFile(value);
  }

  /**
   * Only files inside REF_AUDIO_DIR, also after following symbolic links. A Windows path (the seed's
   * page and NewAvata default to `c:/Qwen3-TTS/sample(1).mp3`) names a file on another machine: it
   * is looked up by its file name in REF_AUDIO_DIR.
   */
  private async readLocalFile(value: string): Promise<Buffer> {
    const windowsPath = /^[a-z]:[\\/]/i.test(value) || value.includes('\\');
    const name = windowsPath ? (value.split(/[\\/]/).pop() ?? '') : value;
    if (windowsPath && (name === '' || name === '.' || name === '..'))
      throw new InvalidInputError(`ref_audio ${JSON.stringify(value)} does not end in a file name`, {
        code: 'invalid_ref_audio',
      });
    const root = path.resolve(this.options.directory);
    const candidate = path.resolve(root, name);
    const outside = () =>
      new InvalidInputError(
        `ref_audio path ${JSON.stringify(name)} is outside REF_AUDIO_DIR: name a file inside that folder, or send a URL or base64 audio`,
        { code: 'ref_audio_outside_directory', statusCode: 400 },
      );
    if (candidate !== root && !candidate.startsWith(root + path.sep)) throw outside();
    let realRoot: string;
    let realFile: string;
    try {
      realRoot = await realpath(root);
      realFile = await realpath(candidate);
    } catch {
      const where = windowsPath
        ? `ref_audio ${JSON.stringify(value)} is a path on another machine; its file name ` +
          `${JSON.stringify(name)} was looked up in REF_AUDIO_DIR and is not there`
        : `ref_audio file ${JSON.stringify(path.relative(root, candidate))} was not found in REF_AUDIO_DIR`;
      throw new InvalidInputError(
        `${where}: copy the recording into REF_AUDIO_DIR or save it as a voice ` +
          '(on the try-it page at /ui, or with POST /v1/audio/voices), or send a URL or base64 audio',
        { code: 'ref_audio_not_found', statusCode: 404 },
      );
    }
    if (!realFile.startsWith(realRoot + path.sep)) throw outside();
    const info = await stat(realFile);
    if (!info.isFile())
      throw new InvalidInputError(`ref_audio ${JSON.stringify(name)} is not a file`, {
        code: 'invalid_ref_audio',
      });
    if (info.size > this.options.maxBytes) {
      throw new InvalidInputError(
        `ref_audio is ${info.size} bytes; the limit is ${this.options.maxBytes} (REF_AUDIO_MAX_BYTES)`,
        { code: 'ref_audio_too_large', statusCode: 413 },
      );
    }
    return readFile(realFile);
  }

  private async decode(bytes: Buffer, signal: AbortSignal, field: string): Promise<ReferenceAudio> {
    const format = sniffAudioFormat(bytes);
    if (!format) {
      throw new InvalidInputError(
        `${field} is not audio this server can read: send WAV, MP3, FLAC, OGG, M4A or WebM` +
          (field === 'ref_audio' ? ' (as a path, a URL or base64)' : ''),
        { code: 'invalid_audio', statusCode: 422 },
      );
    }
    let samples: Float32Array;
    const wav = format === 'wav' ? decodeWav(bytes) : undefined;
    if (wav && wav.sampleRate === SAMPLE_RATE) {
      samples = wav.samples;
    } else if (wav && wav.samples.length <= wav.sampleRate * 10) {
      // Short clips resample here (in slices, so other requests' streams go on); longer ones go to
      // ffmpeg, off the event loop.
      samples = await resampleInSlices(wav.samples, wav.sampleRate, SAMPLE_RATE);
    } else {
      if (wav) this.checkDuration(wav.samples.length / wav.sampleRate, field);
      samples = await decodeAudioWithFfmpeg(bytes, {
        sampleRate: SAMPLE_RATE,
        signal,
        maxSeconds: this.options.maxSeconds,
      });
    }
    this.checkDuration(samples.length / SAMPLE_RATE, field);
    let peak = 0;
    for (const sample of samples) peak = Math.max(peak, Math.abs(sample));
    if (peak < 1e-3) {
      throw new InvalidInputError(`${field} is silent: send a recording of the voice to clone`, {
        code: 'silent_audio',
        statusCode: 422,
      });
    }
    return {
      samples,
      sampleRate: SAMPLE_RATE,
      warnings: assessReference(samples, SAMPLE_RATE).warnings,
      hash: createHash('sha256')
        .update(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength))
        .digest('hex'),
      original: { bytes, mediaType: MEDIA_TYPES[format] },
    };
  }

  private checkDuration(seconds: number, field: string): void {
    const { minSeconds, maxSeconds } = this.options;
    if (seconds < minSeconds || seconds > maxSeconds) {
      throw new InvalidInputError(
        `${field} is ${seconds.toFixed(2)} s long; it must be between ${minSeconds} and ${maxSeconds} s ` +
          '(REF_AUDIO_MIN_SECONDS, REF_AUDIO_MAX_SECONDS). 3–10 s of clear speech works best.',
        { code: 'ref_audio_duration', statusCode: 422 },
      );
    }
  }

  private remember(key: string, audio: ReferenceAudio): void {
    const limit = this.options.cacheBytes ?? 256 * 1024 * 1024;
    const size = audio.samples.byteLength + (audio.original?.bytes.length ?? 0);
    if (size > limit) return;
    this.cache.set(key, audio);
    this.cachedBytes += size;
    for (const [oldestKey, oldest] of this.cache) {
      if (this.cachedBytes <= limit) break;
      this.cache.delete(oldestKey);
      this.cachedBytes -= oldest.samples.byteLength + (oldest.original?.bytes.length ?? 0);
    }
  }
}

/** Long strings of base64 characters only; a file name has a dot and extension, base64 rarely is that short. */
function looksLikeBase64(value: string): boolean {
  return value.length >= 64 && /^[A-Za-z0-9+/_\-\s]+=*\s*$/.test(value);
}

function decodeBase64(text: string): Buffer {
  const bytes = Buffer.from(text.replace(/\s+/g, ''), 'base64');
  if (bytes.length === 0)
    throw new InvalidInputError('ref_audio base64 decodes to nothing', { code: 'invalid_ref_audio' });
  return bytes;
}
