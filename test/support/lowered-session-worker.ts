import * as ort from 'onnxruntime-node';
import { parentPort } from 'node:worker_threads';
import { GraphBuilder } from '../../src/onnx/graph-builder.ts';
import { lowerThreadPriority } from '../../src/onnx/thread-priority.ts';

// Lowers itself, then creates an ONNX session with two intra-op threads, and stays until told.
const lowered = lowerThreadPriority(7);
const graph = new GraphBuilder('add');
const x = graph.input('x', 'float32', [1, 4]);
graph.output(graph.op('Add', [x, x]), 'y', 'float32', [1, 4]);
await ort.InferenceSession.create(graph.encode(), { intraOpNumThreads: 2 });
parentPort!.postMessage(lowered);
parentPort!.once('message', () => process.exit(0));
