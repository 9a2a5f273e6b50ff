import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '../errors.ts';

const AUDIO_FILE = /\.(wav|mp3|flac|ogg|oga|opus|m4a|webm)$/i;

export interface NamedVoice {
  /** The file name without its extension, e.g. `interviewer` for `interviewer.wav`. */
  name: string;
  /** The audio file, relative to REF_AUDIO_DIR (what ref_audio would name). */
  file: string;
  /** The transcript from `<name>.txt` beside it; without one, the voice clones from timbre only. */
  transcript?: string;
}

/**
 * Voices by name for APIs that take a `voice` rather than a reference recording: each audio file in
 * REF_AUDIO_DIR is a voice, and a `.txt` file of the same name holds its transcript.
 */
export class VoiceLibrary {
  constructor(private readonly directory: string) {}

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
        ', or send ref_audio and ref_text instead',
      { statusCode: 404, code: 'unknown_voice' },
    );
  }
}
