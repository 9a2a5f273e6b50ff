/**
 * Reads a source to its end at its own pace, whatever the pace of the consumer, and yields what it
 * read in order (a failure after what came before it). `onSourceEnd` is told when the source is
 * done, so that what the source held (an engine slot) can be freed while the consumer is still
 * behind. A consumer that stops early aborts the source through the signal given to `open`.
 */
export async function* readAhead<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  signal: AbortSignal,
  onSourceEnd: () => void,
): AsyncGenerator<T> {
  const controller = new AbortController();
  const stop = () => controller.abort(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  const items: T[] = [];
  let failure: { error: unknown } | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const pump = (async () => {
    try {
      for await (const item of open(controller.signal)) {
        items.push(item);
        notify();
      }
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      onSourceEnd();
      notify();
    }
  })();
  try {
    for (;;) {
      if (items.length > 0) {
        yield items.shift() as T;
        continue;
      }
      if (failure) throw failure.error;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal.removeEventListener('abort', stop);
    if (!ended) controller.abort();
    await pump;
  }
}
