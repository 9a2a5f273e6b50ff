import { execFileSync } from 'node:child_process';

/** Whether Debian's espeak-ng is installed (CI installs it; a plain `npm install` machine may not have it). */
export function hasEspeak(): boolean {
  try {
    execFileSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Real Korean speech from espeak-ng, as WAV bytes: reference audio for tests (never the product's voice). */
export function speakKorean(text: string): Buffer {
  return execFileSync('espeak-ng', ['-v', 'ko', '--stdout', text]);
}

export const ESPEAK_SKIP = hasEspeak()
  ? false
  : 'espeak-ng is not installed (apt-get install espeak-ng); CI installs it';
