import SwaggerParser from '@apidevtools/swagger-parser';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OpenAPIV3 } from 'openapi-types';
import { buildTestApp, type TestApp } from '../helper.ts';
import { FakeLipsyncEngine } from '../support/fake-lipsync-engine.ts';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface Operation {
  name: string;
  path: string;
  method: (typeof METHODS)[number];
  operation: OpenAPIV3.OperationObject;
}

function operationsOf(document: OpenAPIV3.Document): Operation[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item?.[method]).map((method) => ({
      name: `${method.toUpperCase()} ${path}`,
      path,
      method,
      operation: item![method]!,
    })),
  );
}

const responsesOf = (operation: OpenAPIV3.OperationObject) =>
  Object.entries(operation.responses) as [string, OpenAPIV3.ResponseObject][];

const hasSchema = (response: OpenAPIV3.ResponseObject) =>
  Object.values(response.content ?? {}).some((media) => media.schema !== undefined);

// Probes, metrics and the page are open (no API key) and read nothing: no client error is possible.
const NO_CLIENT_ERRORS = new Set(['GET /', 'GET /health', 'GET /ready', 'GET /metrics', 'GET /ui']);
const MULTIPART = new Set([
  'POST /video/generate',
  'POST /video/generate/sse',
  'POST /video/jobs',
  'POST /v1/audio/voices',
]);
const WEBSOCKET = '/v1/audio/speech/stream';

async function documentOf(test: TestApp): Promise<OpenAPIV3.Document> {
  const response = await test.app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  return response.json<OpenAPIV3.Document>();
}

describe('the OpenAPI document', () => {
  let test: TestApp;
  let document: OpenAPIV3.Document;
  let operations: Operation[];
  before(async () => {
    // Every route group on: video and metrics too.
    test = await buildTestApp({
      lipsync: new FakeLipsyncEngine('audio'),
      environment: { ENABLE_VIDEO: 'true' },
    });
    document = await documentOf(test);
    operations = operationsOf(document);
  });
  after(async () => test.close());

  it('is a valid OpenAPI 3 document', async () => {
    // The validator resolves references in place: it gets a copy.
    await SwaggerParser.validate(structuredClone(document) as OpenAPIV3.Document);
    assert.ok(operations.length >= 20, `only ${operations.length} operations`);
  });

  it('gives every operation real responses, never only "Default Response"', () => {
    for (const { name, operation } of operations) {
      const responses = responsesOf(operation);
      assert.ok(responses.length > 1, `${name} documents ${responses.length} response`);
      for (const [status, response] of responses)
        assert.notEqual(response.description, 'Default Response', `${name} ${status}`);
      const success = responses.find(([status]) => /^[12]/.test(status));
      assert.ok(success, `${name} documents no success`);
    }
  });

  it('documents a client error with its schema for every operation that can have one', () => {
    for (const { name, operation } of operations) {
      const errorsWithSchema = responsesOf(operation).filter(([, response]) => hasSchema(response));
      const clientErrors = errorsWithSchema.filter(([status]) => status.startsWith('4'));
      if (NO_CLIENT_ERRORS.has(name)) {
        assert.ok(
          errorsWithSchema.some(([status]) => status.startsWith('5')),
          `${name} documents no server error`,
        );
      } else {
        assert.ok(clientErrors.length > 0, `${name} documents no 4xx with a schema`);
      }
    }
  });

  it('sends Retry-After with every documented 503 but the readiness probe', () => {
    for (const { name, operation } of operations) {
      const busy = operation.responses['503'] as OpenAPIV3.ResponseObject | undefined;
      if (busy && name !== 'GET /ready') assert.ok(busy.headers?.['Retry-After'], `${name} 503`);
    }
  });

  it('documents a request body for every POST: multipart forms as forms, JSON with examples', () => {
    for (const { name, method, operation } of operations) {
      if (method !== 'post' || name.startsWith('POST /load/')) continue;
      const body = operation.requestBody as OpenAPIV3.RequestBodyObject | undefined;
      assert.ok(body, `${name} has no requestBody`);
      if (MULTIPART.has(name)) {
        const form = body.content['multipart/form-data']?.schema as OpenAPIV3.SchemaObject;
        assert.ok(form, `${name} is not multipart/form-data`);
        const file = Object.values(form.properties ?? {}).some(
          (field) => (field as OpenAPIV3.SchemaObject).format === 'binary',
        );
        assert.ok(file, `${name} has no file field`);
      } else {
        const json = body.content['application/json'];
        assert.ok(json, `${name} takes no JSON`);
        assert.ok(json.examples ?? json.example, `${name} has no example`);
      }
    }
  });

  it('takes the seed’s request as the example of /tts/voice_clone', () => {
    const body = document.paths['/tts/voice_clone']!.post!.requestBody as OpenAPIV3.RequestBodyObject;
    const seed = body.content['application/json'].examples!.seed as OpenAPIV3.ExampleObject;
    assert.deepEqual(seed.value, {
      text: '안녕하세요. AI 면접관입니다. 먼저 간단히 자기소개를 부탁드립니다.',
      language: 'Korean',
      ref_audio: 'sample(1).mp3',
      ref_text: '안녕하세요. 오늘 저의 면접에 참석해 주셔서 감사합니다.',
    });
    // A single language is accepted as well as a list (the converter once dropped the former).
    const schema = body.content['application/json'].schema as OpenAPIV3.SchemaObject;
    const language = schema.properties!.language as OpenAPIV3.SchemaObject;
    assert.ok(language.anyOf?.some((member) => (member as OpenAPIV3.SchemaObject).type === 'string'));
  });

  it('documents the real media types of the answers', () => {
    const content = (path: string, method: 'get' | 'post', status = '200') =>
      Object.keys(
        (document.paths[path]![method]!.responses[status] as OpenAPIV3.ResponseObject).content ?? {},
      );
    assert.deepEqual(content('/tts/voice_clone', 'post'), ['audio/wav', 'application/json']);
    assert.deepEqual(content('/tts/voice_clone/sse', 'post'), ['text/event-stream']);
    assert.ok(content('/v1/audio/speech', 'post').includes('audio/mpeg'));
    assert.ok(content('/v1/audio/speech', 'post').includes('text/event-stream'));
    assert.deepEqual(content('/video/generate', 'post'), ['video/mp4']);
    assert.deepEqual(content('/video/jobs', 'post', '202'), ['application/json']);
    for (const path of ['/health', '/info', '/video/avatars', '/v1/audio/voices'])
      assert.deepEqual(content(path, 'get'), ['application/json'], path);
  });

  it('describes the WebSocket protocol', () => {
    const operation = document.paths[WEBSOCKET]?.get as OpenAPIV3.OperationObject & {
      'x-websocket'?: Record<string, Record<string, unknown>>;
    };
    assert.ok(operation, 'the WebSocket is not in the document');
    for (const word of ['session.config', 'input.text', 'input.done', 'input.cancel', 'session.close'])
      assert.match(operation.description ?? '', new RegExp(word.replace('.', '\\.')));
    for (const word of ['audio.start', 'binary', 'audio.done', 'session.done', '1008', '1009', '1013'])
      assert.match(operation.description ?? '', new RegExp(word.replace('.', '\\.')));
    const protocol = operation['x-websocket']!;
    assert.deepEqual(Object.keys(protocol.clientMessages).sort(), [
      'input.cancel',
      'input.done',
      'input.text',
      'session.close',
      'session.config',
    ]);
    for (const type of ['audio.start', '(binary)', 'audio.done', 'session.done', 'error'])
      assert.ok(protocol.serverMessages[type], type);
    assert.deepEqual(Object.keys(protocol.closeCodes), ['1000', '1008', '1009', '1011', '1013']);
    assert.ok(operation.responses['101']);
  });
});

describe('the OpenAPI document with API_KEY set', () => {
  it('names the key as the security of the routes it guards, and of none other', async () => {
    const test = await buildTestApp({ environment: { API_KEY: 'secret' } });
    try {
      const document = await documentOf(test);
      await SwaggerParser.validate(structuredClone(document) as OpenAPIV3.Document);
      const security = (path: string) => document.paths[path]!.get!.security;
      assert.deepEqual(security('/info'), [{ bearerAuth: [] }, { apiKeyHeader: [] }]);
      assert.deepEqual(security(WEBSOCKET), [{ bearerAuth: [] }, { apiKeyHeader: [] }, { apiKeyQuery: [] }]);
      assert.equal(security('/health'), undefined);
      assert.ok(document.paths['/info']!.get!.responses['401']);
      assert.equal(document.paths['/health']!.get!.responses['401'], undefined);
    } finally {
      await test.close();
    }
  });
});
