// Probes GET /health every `intervalMs` until `seconds` have passed and prints one JSON line:
// { latenciesMs: number[], failed: number }. It runs in its own process, as a real health checker
// does, so that the load generator's busy event loop does not count as the server's latency.
//   node --import tsx bench/abuse/health-prober.ts <base URL> <seconds> [intervalMs]
const [base, seconds, intervalMs = '100'] = process.argv.slice(2);
const until = Date.now() + Number(seconds) * 1000;
const latenciesMs: number[] = [];
let failed = 0;
while (Date.now() < until) {
  const startedAt = performance.now();
  const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5000) }).then(
    async (response) => (await response.arrayBuffer(), response.status === 200),
    () => false,
  );
  if (ok) latenciesMs.push(performance.now() - startedAt);
  else failed += 1;
  await new Promise((resolve) => setTimeout(resolve, Number(intervalMs)));
}
process.stdout.write(`${JSON.stringify({ latenciesMs, failed })}\n`);
