import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReferenceAudio } from '../engines/interfaces/tts-engine.ts';
import { InvalidInputError } from '../errors.ts';
import { sniffAudioFormat } from './reference-audio.ts';

const AUDIO_FILE = /\.(wav|mp3|flac|ogg|oga|opus|m4a|webm)$/i;

/**
 * Names a saved voice may have: letters (any script), digits, spaces, `_`, `-` and parentheses, up to
 * 64 characters, starting and ending with neither a space nor a dot. No dots and no slashes, so a name
 * is always one file name inside REF_AUDIO_DIR and never looks like a file with an extension.
 */
const VOICE_NAME = /^[\p{L}\p{N}_(-](?:[\p{L}\p{N} _()-]{0,62}[\p{L}\p{N}_()-])?$/u;

export interface NamedVoice {
  /** The file name without its extension, e.g. `interviewer` for `interviewer.wav`. */
  name: string;
  /** The audio file, relative to REF_AUDIO_DIR (what ref_audio would name). */
  file: string;
  /** The transcript from `<name>.txt` beside it; without one, the voice clones from timbre only. */
  transcript?: string;
}

export interface SavedVoice extends NamedVoice {
  /** Seconds of audio that were saved. */
  seconds: number;
  /** What may make this recording clone badly (clipping, noise, too little speech). */
  warnings: string[];
}

export interface VoiceLibraryOptions {
  /**
   * Checks and decodes uploaded audio within the reference limits (content, size, duration), as a
   * reference sent with a request is checked; it throws an InvalidInputError that says what is wrong.
   */
  decode: (bytes: Buffer, signal: AbortSignal) => Promise<ReferenceAudio>;
  /** Largest upload, in bytes (REF_AUDIO_MAX_BYTES). */
  maxBytes?: number;
  /** Longest transcript, in characters (MAX_REF_TEXT_LENGTH). */
  maxTranscriptLength?: number;
}

/**
 * Voices by name for APIs that take a `voice` rather than a reference recording: each audio file in
 * REF_AUDIO_DIR is a voice, and a `.txt` file of the same name holds its transcript.
 */
export class VoiceLibrary {
  /** Saves run one at a time, so that two uploads of one name cannot both pass the duplicate check. */
  private saving: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly directory: string,
    private readonly options: VoiceLibraryOptions,
  ) {}

  /** Largest audio `save` takes, in bytes. */
  get maxBytes(): number {
    return this.options.maxBytes ?? 20 * 1024 * 1024;
  }

  async list(): Promise<NamedVoice[]> {
    return Promise.all((await this.files()).map((voice) => this.withTranscript(voice)));
  }

  /** Each voice's name and audio file, without reading any transcript. */
  private async files(): Promise<{ name: string; file: string }[]> {
    let entries: string[];
    try {
      entries = await readdir(this.directory);
    } catch {
      return [];
    }
    const voices: { name: string; file: string }[] = [];
    for (const file of entries.filter((entry) => AUDIO_FILE.test(entry)).sort()) {
      const name = file.replace(AUDIO_FILE, '');
      if (voices.some((voice) => voice.name === name)) continue; // interviewer.wav wins over interviewer.mp3
      voices.push({ name, file });
    }
    return voices;
  }

  private async withTranscript(voice: { name: string; file: string }): Promise<NamedVoice> {
    const transcript = await readFile(path.join(this.directory, `${voice.name}.txt`), 'utf8').catch(
      () => undefined,
    );
    return { ...voice, ...(transcript?.trim() ? { transcript: transcript.trim() } : {}) };
  }

  /** The voice of that name (or file name); a 404 that lists the voices there are otherwise. */
  async find(name: string): Promise<NamedVoice> {
    // Only the voice asked for has its transcript read: a request need not read every one.
    const voices = await this.files();
    const voice = voices.find((candidate) => candidate.name === name || candidate.file === name);
    if (voice) return this.withTranscript(voice);
    const known = voices.map((candidate) => candidate.name);
    throw new InvalidInputError(
      `no voice named ${JSON.stringify(name)}: voices are the audio files in REF_AUDIO_DIR` +
        (known.length > 0 ? ` (${known.slice(0, 20).join(', ')})` : ' (there are none yet)') +
        `. ${this.howToAdd()}; or send ref_audio and ref_text instead`,
      { statusCode: 404, code: 'unknown_voice' },
    );
  }

  /** How a user adds a voice, for messages (which never name the folder's path on this machine). */
  howToAdd(): string {
    return (
      'Add one on the try-it page (/ui), with POST /v1/audio/voices (multipart: audio_sample, name, ' +
      'ref_text), or by copying a recording into REF_AUDIO_DIR as <name>.wav with its transcript in <name>.txt'
    );
  }

  /**
   * Checks the audio as a reference is checked, then stores it as `<name>.<format>` with its transcript
   * in `<name>.txt`. An existing voice of that name is a 409 unless `overwrite` is set, which replaces
   * its audio and transcript.
   */
  async save(
    voice: { name: string; audio: Buffer; transcript?: string; overwrite?: boolean },
    signal: AbortSignal,
  ): Promise<SavedVoice> {
    const name = voice.name.trim().normalize('NFC');
    if (!VOICE_NAME.test(name)) {
      throw new InvalidInputError(
        `name ${JSON.stringify(voice.name)} cannot be a voice name: use 1–64 letters, digits, spaces, ` +
          '_, - or ( ), without dots or slashes (e.g. interviewer)',
        { code: 'invalid_voice_name', statusCode: 422 },
      );
    }
    const transcript = voice.transcript?.trim() ?? '';
    const maxTranscript = this.options.maxTranscriptLength;
    if (maxTranscript !== undefined && transcript.length > maxTranscript) {
      throw new InvalidInputError(
        `ref_text is ${transcript.length} characters; the limit is ${maxTranscript} (MAX_REF_TEXT_LENGTH)`,
        { code: 'ref_text_too_long', statusCode: 413 },
      );
    }
    // The decoder refuses what cannot be a voice (too large, not audio, too short or long, silent).
    const decoded = await this.options.decode(voice.audio, signal);
    const format = sniffAudioFormat(voice.audio);
    if (!format) throw new Error('decoded audio of no known format'); // decode sniffs it first
    const run = this.saving.then(() => this.store(name, format, voice.audio, transcript, voice.overwrite));
    this.saving = run.catch(() => undefined);
    const saved = await run;
    return {
      ...saved,
      seconds: decoded.samples.length / decoded.sampleRate,
      warnings: decoded.warnings ?? [],
    };
  }

  private async store(
    name: string,
    format: string,
    audio: Buffer,
    transcript: string,
    overwrite = false,
  ): Promise<NamedVoice> {
    const existing = (await this.files()).filter((candidate) => candidate.name === name);
    if (existing.length > 0 && !overwrite) {
      throw new InvalidInputError(
        `a voice named ${JSON.stringify(name)} already exists (${existing[0].file}): choose another name, ` +
          'or send overwrite=true to replace it',
        { code: 'voice_exists', statusCode: 409 },
      );
    }
    await mkdir(this.directory, { recursive: true });
    const file = `${name}.${format}`;
    // Written under a temporary name and renamed, so that a voice is never listed half written.
    const temporary = (suffix: string) =>
      path.join(this.directory, `.${name}.${randomBytes(6).toString('hex')}.${suffix}.part`);
    const audioTemporary = temporary('audio');
    const transcriptTemporary = temporary('txt');
    try {
      await writeFile(audioTemporary, audio);
      if (transcript) await writeFile(transcriptTemporary, `${transcript}\n`, 'utf8');
      if (transcript) await rename(transcriptTemporary, path.join(this.directory, `${name}.txt`));
      else await rm(path.join(this.directory, `${name}.txt`), { force: true });
      await rename(audioTemporary, path.join(this.directory, file));
      // Another file of this name (interviewer.mp3 when interviewer.wav is saved) would shadow it.
      await this.removeOtherAudio(name, file);
    } finally {
      await rm(audioTemporary, { force: true });
      await rm(transcriptTemporary, { force: true });
    }
    return { name, file, ...(transcript ? { transcript } : {}) };
  }

  /** Every audio file of the voice's name but `keep` (the library lists only one per name). */
  private async removeOtherAudio(name: string, keep: string): Promise<void> {
    const entries = await readdir(this.directory).catch(() => [] as string[]);
    for (const entry of entries)
      if (entry !== keep && AUDIO_FILE.test(entry) && entry.replace(AUDIO_FILE, '') === name)
        await rm(path.join(this.directory, entry), { force: true });
  }

  /** Deletes a voice's audio files and transcript; a 404 (with the voices there are) if it has none. */
  async remove(name: string): Promise<NamedVoice> {
    const voice = await this.find(name);
    await this.removeOtherAudio(voice.name, '');
    await rm(path.join(this.directory, `${voice.name}.txt`), { force: true });
    return voice;
  }
}
