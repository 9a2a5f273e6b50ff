/** `npm run cli -- bench <which>`: runs one benchmark script from this folder. */
export async function runBench(which: string, args: string[]): Promise<void> {
  const scripts: Record<string, string> = {
    qwen3: './qwen3.ts',
    musetalk: './musetalk.ts',
    compose: './musetalk-compose.ts',
    abuse: './load-and-abuse.ts',
  };
  const script = scripts[which];
  if (!script) throw new Error(`unknown benchmark ${which}: use ${Object.keys(scripts).join(', ')}`);
  process.argv = [process.argv[0], script, ...args];
  await import(script);
}
