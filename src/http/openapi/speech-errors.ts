import { errors, TIMED_OUT, type ErrorSpec } from './responses.ts';
import type { DocResponse } from './route-docs.ts';

/** What a speech request can get wrong, or meet on the server, before any audio is sent. */
const SPEECH_ERRORS: Record<number, ErrorSpec> = {
  400: 'A ref_audio path outside REF_AUDIO_DIR, a ref_audio that is not a file name, URL or base64, or an empty body',
  404: 'ref_audio names no file in REF_AUDIO_DIR',
  413: 'Over a limit: text (MAX_TEXT_LENGTH), ref_text (MAX_REF_TEXT_LENGTH), reference audio (REF_AUDIO_MAX_BYTES) or the body',
  415: 'The body is not JSON (Content-Type must be application/json)',
  422: {
    description:
      'A field failed validation (FastAPI’s list), or the reference audio cannot be used: undecodable, ' +
      'too short or too long (REF_AUDIO_MIN_SECONDS–REF_AUDIO_MAX_SECONDS), an unreachable URL (the plain detail)',
    body: 'either',
  },
  499: TIMED_OUT,
  502: 'A remote engine (vLLM-Omni) failed or answered something unusable',
  503: 'The speech queue is full (Retry-After), the model is not installed or loaded, or a remote engine is unreachable',
};

export function speechErrors(
  openAi = false,
  overrides: Record<number, ErrorSpec> = {},
): Record<number, DocResponse> {
  return errors({ ...SPEECH_ERRORS, ...overrides }, openAi);
}
