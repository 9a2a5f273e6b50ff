/**
 * Runs the ONNX cases that `check_graph_logic.py --dump DIR` wrote (graphs exported by our Python
 * wrappers, their inputs, and PyTorch's outputs) in onnxruntime-node, the runtime that serves them,
 * and compares. Exits 1 when a case differs by more than its tolerance.
 *
 *   npx tsx tools/export/run-onnx-cases.ts DIR
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

interface StoredTensor {
  type: 'float32' | 'int64';
  dims: number[];
  /** Little-endian bytes, base64. */
  data: string;
}

interface OnnxCase {
  label: string;
  graph: string;
  feeds: Record<string, StoredTensor>;
  expected: StoredTensor[];
  tolerance: number;
  /** `max-abs`: the largest absolute difference; `count-differing`: how many elements differ. */
  compare: 'max-abs' | 'count-differing';
}

function toTensor(stored: StoredTensor): ort.Tensor {
  const bytes = Buffer.from(stored.data, 'base64');
  // Copy into an aligned buffer: a Buffer's offset into its pool need not be a multiple of 8.
  const aligned = new Uint8Array(bytes).buffer;
  return stored.type === 'int64'
    ? new ort.Tensor('int64', new BigInt64Array(aligned), stored.dims)
    : new ort.Tensor('float32', new Float32Array(aligned), stored.dims);
}

function difference(actual: ort.Tensor, expected: ort.Tensor, compare: OnnxCase['compare']): number {
  if (actual.dims.join() !== expected.dims.join())
    throw new Error(`shape ${actual.dims.join('×')} instead of ${expected.dims.join('×')}`);
  const got = Array.from(actual.data as ArrayLike<number | bigint>, Number);
  const want = Array.from(expected.data as ArrayLike<number | bigint>, Number);
  if (compare === 'count-differing') return got.filter((value, index) => value !== want[index]).length;
  return got.reduce((worst, value, index) => Math.max(worst, Math.abs(value - want[index])), 0);
}

const directory = process.argv[2];
if (!directory) {
  console.error(
    'usage: npx tsx tools/export/run-onnx-cases.ts DIR (written by check_graph_logic.py --dump DIR)',
  );
  process.exit(2);
}
const cases = JSON.parse(readFileSync(path.join(directory, 'cases.json'), 'utf8')) as OnnxCase[];
const sessions = new Map<string, ort.InferenceSession>();
let failures = 0;
for (const onnxCase of cases) {
  let session = sessions.get(onnxCase.graph);
  if (!session) {
    session = await ort.InferenceSession.create(path.join(directory, onnxCase.graph));
    sessions.set(onnxCase.graph, session);
  }
  const feeds = Object.fromEntries(
    Object.entries(onnxCase.feeds).map(([name, stored]) => [name, toTensor(stored)]),
  );
  const results = await session.run(feeds);
  let worst = 0;
  let problem = '';
  session.outputNames.forEach((name, index) => {
    try {
      worst = Math.max(
        worst,
        difference(results[name], toTensor(onnxCase.expected[index]), onnxCase.compare),
      );
    } catch (error) {
      problem = `${name}: ${(error as Error).message}`;
    }
  });
  const ok = !problem && worst <= onnxCase.tolerance;
  if (!ok) failures += 1;
  console.log(
    `${ok ? 'OK  ' : 'FAIL'} ${onnxCase.label} in onnxruntime-node: ${problem || worst.toPrecision(3)}`,
  );
}
console.log(`${cases.length - failures} of ${cases.length} cases agree with PyTorch`);
process.exit(failures > 0 ? 1 : 0);
