import { readlinkSync } from 'node:fs';
import os from 'node:os';

/**
 * Lowers the calling thread's scheduling priority (raises its nice value) on Linux. Called in a model
 * worker before its ONNX sessions are created, so that the inference threads they start inherit it:
 * when the cores are busy, the event loop (HTTP, /health, streaming) is scheduled first, and the
 * models get every cycle it leaves. Elsewhere, or when refused, it does nothing and says so.
 */
export function lowerThreadPriority(niceness: number): boolean {
  if (niceness <= 0 || process.platform !== 'linux') return false;
  try {
    // On Linux a thread id is a valid target of setpriority, affecting that thread alone.
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    os.setPriority(threadId, Math.min(19, os.getPriority(threadId) + niceness));
    return true;
  } catch {
    return false;
  }
}
