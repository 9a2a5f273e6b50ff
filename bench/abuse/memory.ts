import { readFileSync } from 'node:fs';

/**
 * Where a process's resident memory is, read from outside it (Linux /proc, and the server's own
 * /metrics for its main V8 heap), so that memory that stays after a load can be told apart: the
 * JavaScript heap, glibc's allocator arenas (where onnxruntime's and other native buffers live), or
 * the rest.
 */
export interface MemoryBreakdown {
  rssMb: number;
  /** Mapped files: the code of node, onnxruntime and other libraries (shared, not allocated). */
  fileMb: number;
  /** glibc's main arena (the brk heap): what the main thread allocates natively. */
  mainArenaMb: number;
  /** glibc's per-thread arenas (64 MB-aligned heaps): native allocations of the model and pool threads. */
  threadArenasMb: number;
  /** Other anonymous memory: the V8 heaps of the main thread and of the workers, stacks, large blocks. */
  otherAnonymousMb: number;
  /** The main thread's V8 heap (used and reserved) and the memory its objects hold outside it. */
  v8?: { usedMb: number; totalMb: number; externalMb: number };
}

/** glibc gives each thread arena a heap aligned to its size (HEAP_MAX_SIZE, 64 MB on 64-bit Linux). */
const ARENA_ALIGNMENT = 64 * 1024 * 1024;

export function memoryOf(pid: number): Omit<MemoryBreakdown, 'v8'> | undefined {
  let smaps: string;
  try {
    smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = { rss: 0, file: 0, main: 0, thread: 0, other: 0 };
  let region: { start: number; bytes: number; anonymous: boolean; name: string } | undefined;
  for (const line of smaps.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const start = parseInt(head[1], 16);
      region = {
        start,
        bytes: parseInt(head[2], 16) - start,
        anonymous: head[3] === '0',
        name: head[4].trim(),
      };
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (!rss || !region) continue;
    const size = Number(rss[1]);
    kb.rss += size;
    if (!region.anonymous) kb.file += size;
    else if (region.name === '[heap]') kb.main += size;
    else if (region.name === '' && region.start % ARENA_ALIGNMENT === 0 && region.bytes <= ARENA_ALIGNMENT)
      kb.thread += size;
    else kb.other += size;
  }
  const mb = (value: number) => value / 1024;
  return {
    rssMb: mb(kb.rss),
    fileMb: mb(kb.file),
    mainArenaMb: mb(kb.main),
    threadArenasMb: mb(kb.thread),
    otherAnonymousMb: mb(kb.other),
  };
}

/** The main thread's V8 heap from the server's Prometheus metrics (undefined when they are off). */
export async function v8HeapOf(base: string): Promise<MemoryBreakdown['v8']> {
  const text = await fetch(`${base}/metrics`).then(
    (response) => (response.ok ? response.text() : ''),
    () => '',
  );
  const read = (name: string) => {
    const value = new RegExp(`^${name} ([\\d.e+-]+)$`, 'm').exec(text)?.[1];
    return value === undefined ? undefined : Number(value) / (1024 * 1024);
  };
  const usedMb = read('nodejs_heap_size_used_bytes');
  const totalMb = read('nodejs_heap_size_total_bytes');
  const externalMb = read('nodejs_external_memory_bytes');
  if (usedMb === undefined || totalMb === undefined || externalMb === undefined) return undefined;
  return { usedMb, totalMb, externalMb };
}

export async function memoryBreakdown(pid: number, base: string): Promise<MemoryBreakdown | undefined> {
  const memory = memoryOf(pid);
  if (!memory) return undefined;
  return { ...memory, v8: await v8HeapOf(base) };
}

/** "thread arenas 53 → 67, main arena 7 → 22, …": each part of two breakdowns, in MB. */
export function describeChange(before: MemoryBreakdown, after: MemoryBreakdown): string {
  const change = (label: string, from: number, to: number) =>
    `${label} ${from.toFixed(0)} → ${to.toFixed(0)}`;
  const v8 =
    before.v8 && after.v8
      ? ` (of which the main thread's V8 heap: ${change('reserved', before.v8.totalMb, after.v8.totalMb)}, ` +
        `${change('used', before.v8.usedMb, after.v8.usedMb)})`
      : '';
  return [
    change('thread arenas', before.threadArenasMb, after.threadArenasMb),
    change('main arena', before.mainArenaMb, after.mainArenaMb),
    change('other anonymous', before.otherAnonymousMb, after.otherAnonymousMb) + v8,
    change('files', before.fileMb, after.fileMb),
  ].join(', ');
}
