import { createRequire } from 'node:module';

/**
 * glibc keeps what threads free in its arenas for their next allocations, and a burst of requests
 * leaves tens of MB there that an idle server never uses again. `malloc_trim(0)` gives every free
 * page of every arena back to the system (not only the top of the main heap, as the allocator does
 * on its own). Node has no binding for it, so it is called through koffi, a C FFI that ships prebuilt
 * for each platform.
 *
 * Returns the trim, or undefined where there is no glibc or koffi cannot load.
 */
export function nativeHeapTrim(): (() => void) | undefined {
  try {
    // Required only here. Where the C library is not glibc (macOS, Windows, musl) there is no
    // libc.so.6 with malloc_trim, and loading it throws: nothing is trimmed there.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const mallocTrim = koffi.load('libc.so.6').func('int malloc_trim(size_t pad)') as (pad: number) => number;
    return () => void mallocTrim(0);
  } catch {
    return undefined;
  }
}
