export type * from './speech-stream-parts.ts';
export type * from './tts-engine.ts';
export type * from './lipsync-engine.ts';
export { MODEL_KEYS, LANGUAGES } from './tts-engine.ts';
