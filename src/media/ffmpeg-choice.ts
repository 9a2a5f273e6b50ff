import { execFile } from 'node:child_process';
import { access, constants, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { bundledFfmpegPath, useFfmpeg, type FfmpegSource } from './ffmpeg.ts';

/**
 * Which ffmpeg decodes uploads and URLs and encodes speech and video, chosen once at startup:
 *
 * 1. FFMPEG_PATH, if set, as given (startup fails if it does not run);
 * 2. else `ffmpeg` on PATH, if it is 5.1 or newer and has every encoder the server needs;
 * 3. else the build that the npm package ships (from 2018), with a warning that says why and how to fix it.
 *
 * 5.1 is the oldest FFmpeg that current distributions still patch for security in their main archive
 * (Debian 12 ships 5.1.x; Ubuntu 24.04 ships 6.1, Fedora and Alpine newer); older ones (Debian 11's
 * 4.3, Ubuntu 22.04's 4.4 in universe) can still be named in FFMPEG_PATH.
 */
export const MINIMUM_FFMPEG = { major: 5, minor: 1 } as const;
/**
 * A build without a release number (a git snapshot, `N-12345-g…`) is judged by the year in its
 * banner: 2023 or later is a snapshot taken after 5.1 was released (July 2022).
 */
export const MINIMUM_SNAPSHOT_YEAR = 2023;

/** What each encoder is needed for, in warnings. */
const ENCODER_USES: Record<string, string> = {
  libmp3lame: 'mp3 speech',
  libopus: 'opus speech',
  aac: 'aac speech and the sound of videos',
  flac: 'flac speech',
  libx264: 'video',
};

export interface FfmpegVersion {
  /** The word after "ffmpeg version": `5.1.6-0+deb12u1`, `N-47683-g0e8eb07980-static`. */
  text: string;
  /** Major and minor of a release build (`n` prefixes and distribution suffixes ignored). */
  release?: [number, number];
  /** The last year of the banner's copyright, i.e. when that FFmpeg's source was current. */
  year?: number;
}

/** Reads the first line of `ffmpeg -version`; undefined when it is not ffmpeg's. */
export function parseFfmpegVersion(output: string): FfmpegVersion | undefined {
  const firstLine = output.trimStart().split('\n', 1)[0].trim();
  const match = /^ffmpeg version (\S+)/.exec(firstLine);
  if (!match) return undefined;
  const text = match[1];
  const release = /^n?(\d+)\.(\d+)/.exec(text);
  const year = /Copyright \(c\) (?:\d{4}-)?(\d{4})/i.exec(firstLine);
  return {
    text,
    ...(release ? { release: [Number(release[1]), Number(release[2])] as [number, number] } : {}),
    ...(year ? { year: Number(year[1]) } : {}),
  };
}

/** At least 5.1; a snapshot without a release number by its year; an unreadable version is not. */
export function isRecentEnough(version: FfmpegVersion): boolean {
  if (version.release) {
    const [major, minor] = version.release;
    return major > MINIMUM_FFMPEG.major || (major === MINIMUM_FFMPEG.major && minor >= MINIMUM_FFMPEG.minor);
  }
  return version.year !== undefined && version.year >= MINIMUM_SNAPSHOT_YEAR;
}

/** The version for people: a snapshot gets its year, which says more than its commit count. */
function describeVersion(version: FfmpegVersion): string {
  return !version.release && version.year ? `${version.text} (${version.year})` : version.text;
}

export interface FfmpegChoice {
  source: FfmpegSource;
  path: string;
  /** The word after "ffmpeg version" (see FfmpegVersion.text). */
  version: string;
  /** Why the choice is not a recent, complete ffmpeg, and how to fix it; empty when it is. */
  warnings: string[];
}

export interface ChooseFfmpegOptions {
  /** FFMPEG_PATH; empty: look on PATH, then the bundled build. */
  configuredPath: string;
  /** Whether this server encodes video itself (libx264 needed). */
  video: boolean;
  /** Directories to look for `ffmpeg` in (default: PATH). */
  searchPath?: string;
  /** The bundled build (default: @ffmpeg-installer's). */
  bundledPath?: () => string;
  /** How long each probe may take. */
  timeoutMs?: number;
}

interface Probe {
  version: FfmpegVersion;
  encoders: Set<string>;
}

function reasonOf(error: unknown): string {
  const failure = (error ?? {}) as { code?: unknown; killed?: boolean; signal?: unknown };
  if (failure.killed) return 'it did not answer in time';
  if (failure.code === 'ENOENT') return 'no such file';
  if (failure.code === 'EACCES') return 'not executable';
  if (typeof failure.code === 'string') return failure.code;
  if (typeof failure.code === 'number') return `it exited with code ${failure.code}`;
  if (typeof failure.signal === 'string') return `it was ended by ${failure.signal}`;
  return error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true, maxBuffer: 4 << 20 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

/** `-version` and, when asked, `-encoders`, at once; rejects with a reason when it is not a working ffmpeg. */
async function probe(file: string, timeoutMs: number, withEncoders: boolean): Promise<Probe> {
  let versionOutput: string;
  let encodersOutput: string;
  try {
    [versionOutput, encodersOutput] = await Promise.all([
      run(file, ['-version'], timeoutMs),
      withEncoders ? run(file, ['-hide_banner', '-encoders'], timeoutMs) : Promise.resolve(''),
    ]);
  } catch (error) {
    throw new Error(reasonOf(error), { cause: error });
  }
  const version = parseFfmpegVersion(versionOutput);
  if (!version) {
    const said = versionOutput.trim().split('\n', 1)[0].slice(0, 80);
    throw new Error(`\`-version\` did not print "ffmpeg version …"${said ? ` but "${said}"` : ''}`);
  }
  const encoders = new Set<string>();
  for (const line of encodersOutput.split('\n')) {
    const match = /^\s*[VAS][A-Z.]{5}\s+(\S+)/.exec(line);
    if (match && match[1] !== '=') encoders.add(match[1]);
  }
  return { version, encoders };
}

/** The first executable `ffmpeg` in the absolute directories of `searchPath` (relative ones are skipped). */
async function findOnPath(searchPath: string): Promise<string | undefined> {
  const name = process.platform === 'win32' ? 'ffmpeg.exe' : 'ffmpeg';
  for (const directory of searchPath.split(path.delimiter)) {
    if (!path.isAbsolute(directory)) continue;
    const file = path.join(directory, name);
    try {
      if (!(await stat(file)).isFile()) continue;
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}

function listEncoders(names: string[]): string {
  const plural = names.length > 1 ? 's' : '';
  return `the encoder${plural} ${names.map((name) => `${name} (${ENCODER_USES[name] ?? name})`).join(', ')}`;
}

/** Probes the candidates in the order above and returns the first that fits, with warnings. */
export async function chooseFfmpeg(options: ChooseFfmpegOptions): Promise<FfmpegChoice> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const needed = ['libmp3lame', 'libopus', 'aac', 'flac', ...(options.video ? ['libx264'] : [])];
  const missing = (found: Probe) => needed.filter((name) => !found.encoders.has(name));
  const minimum = `${MINIMUM_FFMPEG.major}.${MINIMUM_FFMPEG.minor}`;

  if (options.configuredPath) {
    const file = options.configuredPath;
    let found: Probe;
    try {
      found = await probe(file, timeoutMs, true);
    } catch (error) {
      throw new Error(
        `FFMPEG_PATH=${file} does not run as ffmpeg (${reasonOf(error)}): set it to an ffmpeg binary, ` +
          'or leave it empty to use the system ffmpeg (5.1 or newer) or the bundled one',
        { cause: error },
      );
    }
    const warnings: string[] = [];
    if (!isRecentEnough(found.version))
      warnings.push(
        `FFMPEG_PATH names ffmpeg ${describeVersion(found.version)}, older than ${minimum}; ` +
          'it decodes untrusted uploads and URLs, so keep it patched',
      );
    const lacking = missing(found);
    if (lacking.length > 0)
      warnings.push(`FFMPEG_PATH's ffmpeg lacks ${listEncoders(lacking)}: those outputs will fail`);
    return { source: 'FFMPEG_PATH', path: file, version: found.version.text, warnings };
  }

  const bundled = options.bundledPath ?? bundledFfmpegPath;
  let bundledFile: string | undefined;
  let bundledProblem: string | undefined;
  try {
    bundledFile = bundled();
  } catch (error) {
    bundledProblem = reasonOf(error);
  }

  const systemFile = await findOnPath(options.searchPath ?? process.env.PATH ?? '');
  let system: Probe | undefined;
  // Why the system ffmpeg is not used, and whether FFMPEG_PATH could still name it.
  let systemProblem = 'there is no ffmpeg on PATH';
  let systemUsable = false;
  if (systemFile && !(bundledFile && (await sameFile(systemFile, bundledFile)))) {
    try {
      system = await probe(systemFile, timeoutMs, true);
    } catch (error) {
      systemProblem = `the system ffmpeg (${systemFile}) does not run (${reasonOf(error)})`;
    }
    if (system) {
      const lacking = missing(system);
      const described = describeVersion(system.version);
      if (!isRecentEnough(system.version)) {
        systemProblem = system.version.release
          ? `the system ffmpeg (${systemFile}) is ${described}, older than ${minimum}`
          : `the system ffmpeg's version (${systemFile}: ${described}) does not show that it is ${minimum} or newer`;
        systemUsable = lacking.length === 0;
      } else if (lacking.length > 0) {
        systemProblem = `the system ffmpeg (${systemFile}, ${described}) lacks ${listEncoders(lacking)}`;
      } else {
        return { source: 'system', path: systemFile, version: system.version.text, warnings: [] };
      }
    }
  }

  let bundledVersion: FfmpegVersion | undefined;
  if (bundledFile) {
    try {
      bundledVersion = (await probe(bundledFile, timeoutMs, false)).version;
    } catch (error) {
      bundledProblem = `${bundledFile} does not run (${reasonOf(error)})`;
    }
  }
  if (bundledFile && bundledVersion) {
    const fix =
      `install your distribution's ffmpeg (${minimum} or newer, with ${needed.join(', ')}; ` +
      `Debian 12: apt install ffmpeg) or set FFMPEG_PATH` +
      (systemUsable ? ` (FFMPEG_PATH=${systemFile} uses that one anyway)` : '');
    return {
      source: 'bundled',
      path: bundledFile,
      version: bundledVersion.text,
      warnings: [
        `${systemProblem}, so the bundled ffmpeg ${describeVersion(bundledVersion)} is used: an old build, ` +
          `and it decodes untrusted uploads and URLs; ${fix}`,
      ],
    };
  }
  if (systemFile && system) {
    return {
      source: 'system',
      path: systemFile,
      version: system.version.text,
      warnings: [`${systemProblem}, but the bundled ffmpeg is not usable (${bundledProblem}), so it is used`],
    };
  }
  throw new Error(
    `no ffmpeg to use: ${systemProblem}, and the bundled one is not usable (${bundledProblem}). ` +
      `Install ffmpeg ${minimum} or newer (Debian 12: apt install ffmpeg) or set FFMPEG_PATH`,
  );
}

export interface FfmpegLog {
  info(message: string): void;
  warn(message: string): void;
}

const choices = new Map<string, Promise<FfmpegChoice>>();

/**
 * Chooses the ffmpeg for this configuration (probed once; later calls with the same settings reuse
 * the answer), makes every spawn use it, and logs which one and why. Rejects when FFMPEG_PATH does
 * not run, or when no ffmpeg does.
 */
export async function setUpFfmpeg(
  config: Pick<Config, 'FFMPEG_PATH' | 'ENABLE_VIDEO' | 'USE_NEWAVATA_API'>,
  log: FfmpegLog,
): Promise<FfmpegChoice> {
  const options: ChooseFfmpegOptions = {
    configuredPath: config.FFMPEG_PATH,
    // NewAvata renders videos itself; only the embedded lip-sync engine encodes with libx264 here.
    video: config.ENABLE_VIDEO && !config.USE_NEWAVATA_API,
  };
  const key = JSON.stringify([options.configuredPath, options.video, process.env.PATH ?? '']);
  let pending = choices.get(key);
  if (!pending) {
    pending = chooseFfmpeg(options);
    choices.set(key, pending);
    pending.catch(() => choices.delete(key));
  }
  const choice = await pending;
  useFfmpeg(choice);
  const from = {
    FFMPEG_PATH: 'from FFMPEG_PATH',
    system: 'from the system',
    bundled: 'bundled with the npm package',
  };
  log.info(`ffmpeg ${choice.version} ${from[choice.source]} (${choice.path})`);
  for (const warning of choice.warnings) log.warn(warning);
  return choice;
}
