import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * A full garbage collection of this thread's V8 heap, which then gives back the pages it no longer
 * needs. V8 collects on its own when allocations come, so an idle server keeps the heap its last
 * burst grew. `gc` is only exposed with --expose-gc; the flag can be set at run time, and a new
 * context created after that has the function (this thread's heap is the one it collects).
 */
export function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
