import { createRequire } from 'node:module';
import path from 'node:path';
import { InvalidInputError } from '../../errors.ts';

/** A detected face: its box and the 68 iBUG landmarks, in image pixels. */
export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  landmarks: [number, number][];
  score: number;
}

/* face-api's and tfjs's bundled types are written for browsers; the few calls used here are typed by hand. */
interface FaceApi {
  nets: {
    ssdMobilenetv1: { loadFromDisk(dir: string): Promise<void> };
    faceLandmark68Net: { loadFromDisk(dir: string): Promise<void> };
  };
  SsdMobilenetv1Options: new (options: { minConfidence: number; maxResults: number }) => unknown;
  detectAllFaces(input: unknown, options: unknown): { withFaceLandmarks(): Promise<FaceResult[]> };
  tf: {
    tensor3d(data: Int32Array, shape: [number, number, number], dtype: 'int32'): { dispose(): void };
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
  };
}
interface FaceResult {
  detection: { box: { x: number; y: number; width: number; height: number }; score: number };
  landmarks: { positions: { x: number; y: number }[] };
}

let loading: Promise<FaceApi> | undefined;

/**
 * face-api (SSD-MobileNet detector + 68-point landmarks) on tfjs's WebAssembly backend. Its weights and
 * the .wasm binaries ship inside the npm packages, so this runs offline; everything loads once.
 */
function faceApi(): Promise<FaceApi> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    const faceApiPackage = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
    const wasmBackend = require('@tensorflow/tfjs-backend-wasm') as {
      setWasmPaths(prefix: string, usePlatformFetch?: boolean): void;
    };
    wasmBackend.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${path.sep}`);
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
    await api.tf.setBackend('wasm');
    await api.tf.ready();
    const modelDirectory = path.join(faceApiPackage, 'model');
    await api.nets.ssdMobilenetv1.loadFromDisk(modelDirectory);
    await api.nets.faceLandmark68Net.loadFromDisk(modelDirectory);
    return api;
  })();
  return loading;
}

/** Faces in an RGB image (H × W × 3 bytes), largest first. */
export async function detectFaces(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]> {
  const api = await faceApi();
  const tensor = api.tf.tensor3d(Int32Array.from(rgb), [height, width, 3], 'int32');
  try {
    const results = await api
      .detectAllFaces(tensor, new api.SsdMobilenetv1Options({ minConfidence: 0.4, maxResults: 10 }))
      .withFaceLandmarks();
    return results
      .map((result) => ({
        // face-api's Box exposes its fields through getters, so they are copied one by one.
        box: {
          x: result.detection.box.x,
          y: result.detection.box.y,
          width: result.detection.box.width,
          height: result.detection.box.height,
        },
        score: result.detection.score,
        landmarks: result.landmarks.positions.map((point) => [point.x, point.y] as [number, number]),
      }))
      .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  } finally {
    tensor.dispose();
  }
}

/**
 * The face to animate: the only one, or one clearly larger than the rest (twice the area of the next).
 * No face, or several with none dominant, is a 422 that says so.
 */
export function selectDominantFace(faces: DetectedFace[]): DetectedFace {
  if (faces.length === 0) {
    throw new InvalidInputError(
      'no face was found in avatar_image: send a photo with one clearly visible, front-facing face',
      { statusCode: 422, code: 'no_face' },
    );
  }
  if (faces.length > 1) {
    const area = (face: DetectedFace) => face.box.width * face.box.height;
    if (area(faces[0]) < 2 * area(faces[1])) {
      throw new InvalidInputError(
        `avatar_image shows ${faces.length} faces and none is clearly the main one: crop the photo to the face that should speak`,
        { statusCode: 422, code: 'several_faces' },
      );
    }
  }
  return faces[0];
}
