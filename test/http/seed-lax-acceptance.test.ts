import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeTtsEngine } from '../support/fake-tts-engine.ts';
import { buildTestApp, SEED_BODY, type TestApp } from '../helper.ts';

/**
 * What the seed's own server (FastAPI + pydantic, lax mode) accepted, sent beside ours: each must be
 * accepted here with the same meaning, and what it refused must be refused with pydantic's `type`.
 */
describe('bodies the seed accepts', () => {
  let test: TestApp;
  let engine: FakeTtsEngine;
  before(async () => {
    test = await buildTestApp();
    engine = test.engine as FakeTtsEngine;
  });
  after(() => test.close());

  async function speak(body: Record<string, unknown>) {
    engine.requests.length = 0;
    const response = await test.app.inject({ method: 'POST', url: '/tts/voice_clone', payload: body });
    return { response, requests: [...engine.requests] };
  }

  it('takes generation_params: null as the defaults', async () => {
    const { response, requests } = await speak({ ...SEED_BODY, generation_params: null });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(requests[0].sampling.temperature, undefined);
  });

  it('converts booleans, integers and numbers as pydantic does', async () => {
    for (const [sent, expected] of [
      ['true', true],
      ['yes', true],
      ['ON', true],
      [1, true],
      ['false', false],
      ['no', false],
      [0, false],
    ] as const) {
      const { response, requests } = await speak({
        ...SEED_BODY,
        generation_params: { do_sample: sent, top_k: '12', temperature: '0.7', max_new_tokens: 40.0 },
      });
      assert.equal(response.statusCode, 200, `do_sample ${JSON.stringify(sent)}: ${response.body}`);
      assert.equal(requests[0].sampling.doSample, expected);
      assert.equal(requests[0].sampling.topK, 12);
      assert.equal(requests[0].sampling.temperature, 0.7);
      assert.equal(requests[0].sampling.maxNewTokens, 40);
    }
  });

  it('takes x_vector_only_mode and split_sentences as strings', async () => {
    const { response, requests } = await speak({
      ...SEED_BODY,
      text: '첫 문장입니다. 둘째 문장입니다.',
      x_vector_only_mode: 'true',
      split_sentences: 'false',
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(requests.length, 1, 'split_sentences "false" keeps one piece');
    assert.equal(requests[0].voice.xVectorOnly, true);
  });

  it('takes seed -1 (and any negative seed) as random, and folds seeds past 31 bits', async () => {
    const first = await speak({ ...SEED_BODY, seed: -1 });
    const second = await speak({ ...SEED_BODY, seed: -1 });
    assert.equal(first.response.statusCode, 200, first.response.body);
    assert.notEqual(first.requests[0].sampling.seed, second.requests[0].sampling.seed);
    const big = await speak({ ...SEED_BODY, seed: 2 ** 31 + 5 });
    assert.equal(big.response.statusCode, 200, big.response.body);
    assert.equal(big.requests[0].sampling.seed, 5);
    const text = await speak({ ...SEED_BODY, seed: '42' });
    assert.equal(text.requests[0].sampling.seed, 42);
  });

  it('takes language as a list: one for all texts, or one per text', async () => {
    const one = await speak({ ...SEED_BODY, language: ['English'] });
    assert.equal(one.response.statusCode, 200, one.response.body);
    assert.equal(one.requests[0].language, 'English');

    const each = await speak({
      ...SEED_BODY,
      text: ['Hello.', '안녕하세요.'],
      language: ['English', 'Korean'],
    });
    assert.equal(each.response.statusCode, 200, each.response.body);
    assert.deepEqual(
      each.requests.map((request) => request.language),
      ['English', 'Korean'],
    );

    const mismatch = await speak({
      ...SEED_BODY,
      text: ['하나.', '둘.', '셋.'],
      language: ['English', 'Korean'],
    });
    assert.equal(mismatch.response.statusCode, 422);
    assert.match(mismatch.response.body, /language has 2 items but text has 3/);
  });

  it('answers what pydantic refuses with pydantic’s type names', async () => {
    const cases: [Record<string, unknown>, string, (string | number)[]][] = [
      [{ ...SEED_BODY, text: undefined }, 'missing', ['body', 'text']],
      [{ ...SEED_BODY, x_vector_only_mode: 'maybe' }, 'bool_parsing', ['body', 'x_vector_only_mode']],
      [{ ...SEED_BODY, x_vector_only_mode: [] }, 'bool_type', ['body', 'x_vector_only_mode']],
      [
        { ...SEED_BODY, generation_params: { top_k: 'many' } },
        'int_parsing',
        ['body', 'generation_params', 'top_k'],
      ],
      [
        { ...SEED_BODY, generation_params: { top_k: 1.5 } },
        'int_from_float',
        ['body', 'generation_params', 'top_k'],
      ],
      [
        { ...SEED_BODY, generation_params: { temperature: 'hot' } },
        'float_parsing',
        ['body', 'generation_params', 'temperature'],
      ],
      [
        { ...SEED_BODY, generation_params: { top_k: 101 } },
        'less_than_equal',
        ['body', 'generation_params', 'top_k'],
      ],
      [
        { ...SEED_BODY, generation_params: { repetition_penalty: 0.5 } },
        'greater_than_equal',
        ['body', 'generation_params', 'repetition_penalty'],
      ],
      [{ ...SEED_BODY, generation_params: 'fast' }, 'dict_type', ['body', 'generation_params']],
      [{ ...SEED_BODY, text: 5 }, 'string_type', ['body', 'text', 'str']],
    ];
    for (const [body, type, loc] of cases) {
      const { response } = await speak(body);
      assert.equal(response.statusCode, 422, JSON.stringify(body));
      const items = (response.json() as { detail: { type: string; loc: unknown[]; msg: string }[] }).detail;
      const item = items.find((entry) => entry.type === type);
      assert.ok(item, `${type} expected in ${response.body}`);
      assert.deepEqual(item.loc, loc);
      assert.ok(item.msg.length > 0);
    }
  });
});
