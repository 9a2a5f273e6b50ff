/**
 * `npm run bench -- <which> [options]`: runs one benchmark script from this folder (the server's
 * CLI does not carry the benchmarks).
 */
const scripts: Record<string, string> = {
  qwen3: './qwen3.ts',
  'qwen3-graphs': './qwen3-graphs.ts',
  'qwen3-variants': './qwen3-variants.ts',
  'matmul-nbits': './matmul-nbits.ts',
  musetalk: './musetalk.ts',
  compose: './musetalk-compose.ts',
  'video-first-segment': './video-first-segment.ts',
  'video-avatar': './video-avatar-prepare.ts',
  abuse: './load-and-abuse.ts',
  loop: './loop-lag.ts',
  official: './official-ratio.ts',
};

const [which = 'qwen3', ...args] = process.argv.slice(2);
const script = scripts[which];
if (!script) {
  console.error(`unknown benchmark ${which}: use ${Object.keys(scripts).join(', ')}`);
  process.exit(1);
}
process.argv = [process.argv[0], script, ...args];
await import(script);
