/**
 * The X-Reference-Warnings header: advice about the reference recording (clipping, noise, too little
 * speech), URI-encoded because header values must be ASCII, joined with " | ". Absent when there is none.
 */
export function referenceWarningsHeader(warnings: string[]): Record<string, string> {
  return warnings.length > 0 ? { 'X-Reference-Warnings': encodeURIComponent(warnings.join(' | ')) } : {};
}

/** X-Cache: hit when the audio was replayed from an identical earlier request. */
export function cacheHeader(fromCache: boolean): Record<string, string> {
  return fromCache ? { 'X-Cache': 'hit' } : {};
}
