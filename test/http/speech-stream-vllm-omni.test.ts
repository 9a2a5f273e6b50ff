import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, type TestApp } from '../helper.ts';
import { FakeTtsEngine } from '../support/fake-tts-engine.ts';
import { readReplies, record, type JsonMessage } from './speech-stream-recorder.ts';

/*
 * What vLLM-Omni's own streaming client sends, byte for byte (its frames are Python's json.dumps):
 * examples/online_serving/text_to_speech/qwen3_tts/streaming_speech_client.py in vllm-project/vllm-omni
 * at commit 808407b03c871d9d338f44be93b63a83dc8c9790, run as
 *   --text "Hello world. How are you? I am fine." --speaker "sample(1)" \
 *     --response-format pcm --stream-audio --simulate-stt
 * and, for DEFAULT_RUN, with only --text and --speaker. The client reads replies until session.done,
 * then closes the socket. The replies asserted below are those of vLLM-Omni's server,
 * vllm_omni/entrypoints/openai/serving_speech_stream.py at commit 0131cb5560450800b800e889fb849ea2c851bd3f.
 */
const STREAMING_RUN = [
  '{"type": "session.config", "speaker": "sample(1)", "task_type": "CustomVoice", "language": "Auto", "response_format": "pcm", "speed": 1.0, "stream_audio": true}',
  '{"type": "input.text", "text": "Hello "}',
  '{"type": "input.text", "text": "world. "}',
  '{"type": "input.text", "text": "How "}',
  '{"type": "input.text", "text": "are "}',
  '{"type": "input.text", "text": "you? "}',
  '{"type": "input.text", "text": "I "}',
  '{"type": "input.text", "text": "am "}',
  '{"type": "input.text", "text": "fine."}',
  '{"type": "input.done"}',
];
const DEFAULT_RUN = [
  '{"type": "session.config", "speaker": "sample(1)", "task_type": "CustomVoice", "language": "Auto", "response_format": "wav", "speed": 1.0}',
  '{"type": "input.text", "text": "Hello world. How are you? I am fine."}',
  '{"type": "input.done"}',
];
const SENTENCES = ['Hello world.', 'How are you?', 'I am fine.'];
// Later utterances of one session, as the server's protocol (input.done flushes, session.close ends) has them.
const SECOND_UTTERANCE = [
  '{"type": "input.text", "text": "Second question. "}',
  '{"type": "input.text", "text": "Is it clear?"}',
  '{"type": "input.done"}',
];
const SESSION_CLOSE = '{"type": "session.close"}';

const keys = (message: JsonMessage) => Object.keys(message);
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('vLLM-Omni streaming client on WS /v1/audio/speech/stream', () => {
  let test: TestApp;
  before(async () => {
    test = await buildTestApp({ engine: new FakeTtsEngine({ partDelayMs: 10 }) });
  });
  after(async () => test.close());

  const replay = async (frames: string[]) => {
    const socket = await test.app.injectWS('/v1/audio/speech/stream');
    const session = record(socket);
    for (const frame of frames) socket.send(frame);
    return { socket, session };
  };

  it('stream_audio: audio.start, PCM chunks, audio.done per sentence, then session.done; the session stays open', async () => {
    const { socket, session } = await replay(STREAMING_RUN);
    await session.until(() => session.count('session.done') === 1, 'session.done');
    await settle(200);
    assert.equal(session.closeCode(), undefined, 'input.done does not end the session');

    const { sentences, sessionDone, errors } = readReplies(session.messages);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      sentences.map(({ start }) => start.sentence_text),
      SENTENCES,
    );
    sentences.forEach(({ start, audio, done }, index) => {
      assert.deepEqual(keys(start).slice(0, 5), [
        'type',
        'utterance_index',
        'sentence_index',
        'sentence_text',
        'format',
      ]);
      assert.equal(start.utterance_index, 0);
      assert.equal(start.sentence_index, index);
      assert.equal(start.format, 'pcm');
      // Streamed PCM states its rate and channels, as vLLM-Omni's server does.
      assert.equal(start.sample_rate, 24000);
      assert.equal(start.channels, 1);
      assert.ok(audio.length > 1, 'the sentence came in several chunks');
      const bytes = audio.reduce((sum, chunk) => sum + chunk.length, 0);
      assert.equal(bytes % 2, 0, '16-bit samples');
      assert.deepEqual(done, {
        type: 'audio.done',
        utterance_index: 0,
        sentence_index: index,
        total_bytes: bytes,
        error: false,
      });
      assert.deepEqual(keys(done), ['type', 'utterance_index', 'sentence_index', 'total_bytes', 'error']);
    });
    assert.deepEqual(sessionDone, [{ type: 'session.done', utterance_index: 0, total_sentences: 3 }]);
    assert.deepEqual(keys(sessionDone[0]), ['type', 'utterance_index', 'total_sentences']);
    assert.equal(session.messages.at(-1)?.type, 'session.done');
    // The client closes once it has session.done.
    socket.close();
    await session.until(() => session.closeCode() !== undefined, 'the close');
  });

  it('without stream_audio (the client’s default): one binary message per sentence, a whole WAV file', async () => {
    const { socket, session } = await replay(DEFAULT_RUN);
    await session.until(() => session.count('session.done') === 1, 'session.done');
    const { sentences, sessionDone, errors } = readReplies(session.messages);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      sentences.map(({ start }) => start.sentence_text),
      SENTENCES,
    );
    for (const { start, audio, done } of sentences) {
      assert.equal(start.format, 'wav');
      assert.equal(audio.length, 1, 'one binary message for the sentence');
      const [wav] = audio;
      assert.equal(wav.toString('ascii', 0, 4), 'RIFF');
      assert.equal(wav.readUInt32LE(4), wav.length - 8, 'the RIFF size is that of this file');
      assert.equal(wav.readUInt32LE(40), wav.length - 44, 'the data size is that of its samples');
      assert.ok(wav.length > 44);
      assert.equal(done.total_bytes, wav.length);
      assert.equal(done.error, false);
    }
    assert.deepEqual(sessionDone, [{ type: 'session.done', utterance_index: 0, total_sentences: 3 }]);
    socket.close();
  });

  it('takes several utterances in one session, and session.close ends it once their audio is sent', async () => {
    // All sent at once: session.close comes while the first utterance is still being spoken.
    const { session } = await replay([...STREAMING_RUN, ...SECOND_UTTERANCE, SESSION_CLOSE]);
    await session.until(() => session.closeCode() !== undefined, 'the end of the session');
    assert.equal(session.closeCode(), 1000);

    const { sentences, sessionDone, errors } = readReplies(session.messages);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      sentences.map(({ start }) => [start.utterance_index, start.sentence_index, start.sentence_text]),
      [
        [0, 0, 'Hello world.'],
        [0, 1, 'How are you?'],
        [0, 2, 'I am fine.'],
        [1, 0, 'Second question.'],
        [1, 1, 'Is it clear?'],
      ],
    );
    assert.ok(sentences.every(({ audio }) => audio.length > 0));
    assert.deepEqual(sessionDone, [
      { type: 'session.done', utterance_index: 0, total_sentences: 3 },
      { type: 'session.done', utterance_index: 1, total_sentences: 2 },
    ]);
    assert.equal(session.messages.at(-1)?.type, 'session.done', 'nothing after the last session.done');
  });

  it('takes a new session.config between utterances', async () => {
    const { session } = await replay([
      ...STREAMING_RUN,
      '{"type": "session.config", "speaker": "sample(1)", "response_format": "wav"}',
      ...SECOND_UTTERANCE,
      SESSION_CLOSE,
    ]);
    await session.until(() => session.closeCode() !== undefined, 'the end of the session');
    const { sentences, errors } = readReplies(session.messages);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      sentences.map(({ start, audio }) => [start.format, audio.length > 1 ? 'chunks' : 'one']),
      [
        ['pcm', 'chunks'],
        ['pcm', 'chunks'],
        ['pcm', 'chunks'],
        ['wav', 'one'],
        ['wav', 'one'],
      ],
    );
    assert.equal(session.closeCode(), 1000);
  });

  it('refuses a session.config while an utterance is open with an error that has `message`, and goes on', async () => {
    const { session } = await replay([
      STREAMING_RUN[0],
      '{"type": "input.text", "text": "Hello world. How "}',
      '{"type": "session.config", "speaker": "sample(1)", "response_format": "wav"}',
      '{"type": "input.text", "text": "are you?"}',
      '{"type": "input.done"}',
      SESSION_CLOSE,
    ]);
    await session.until(() => session.closeCode() !== undefined, 'the end of the session');
    assert.equal(session.closeCode(), 1000);
    const { sentences, errors } = readReplies(session.messages);
    assert.equal(errors.length, 1);
    assert.equal(typeof errors[0].message, 'string');
    assert.match(errors[0].message as string, /input\.done/);
    assert.equal(errors[0].detail, errors[0].message, 'this server’s `detail` is kept');
    assert.deepEqual(
      sentences.map(({ start }) => [start.sentence_text, start.format]),
      [
        ['Hello world.', 'pcm'],
        ['How are you?', 'pcm'],
      ],
    );
  });

  it('answers an unknown message type after session.config with an error and goes on', async () => {
    const { session } = await replay([
      STREAMING_RUN[0],
      '{"type": "input.audio"}',
      '{"type": "input.text", "text": "Hello world."}',
      '{"type": "input.done"}',
      SESSION_CLOSE,
    ]);
    await session.until(() => session.closeCode() !== undefined, 'the end of the session');
    assert.equal(session.closeCode(), 1000);
    const { sentences, errors } = readReplies(session.messages);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message as string, /session\.close/, 'it names the message types');
    assert.equal(sentences.length, 1);
  });

  it('answers a speaker that is not a voice here with an error naming it (1008), not an internal error', async () => {
    const { session } = await replay([
      '{"type": "session.config", "speaker": "Vivian", "task_type": "CustomVoice", "language": "Auto", "response_format": "wav", "speed": 1.0}',
    ]);
    await session.until(() => session.closeCode() !== undefined, 'the close');
    assert.equal(session.closeCode(), 1008);
    const { errors } = readReplies(session.messages);
    assert.match(errors[0].message as string, /no voice named "Vivian"/);
  });

  it('answers a session.config with neither speaker, voice nor ref_audio with an error that says so (1008)', async () => {
    const { session } = await replay(['{"type": "session.config", "response_format": "wav"}']);
    await session.until(() => session.closeCode() !== undefined, 'the close');
    assert.equal(session.closeCode(), 1008);
    const { errors } = readReplies(session.messages);
    assert.match(errors[0].message as string, /speaker|voice/);
    assert.doesNotMatch(errors[0].message as string, /internal error/);
  });
});

describe('vLLM-Omni streaming client when a sentence fails', () => {
  it('sends error (message, partial_audio, action) and audio.done with error: true, and goes on', async () => {
    // Three parts a sentence; the fourth part fails: the first sentence fails halfway, the others at once.
    const test = await buildTestApp({
      engine: new FakeTtsEngine({ partDelayMs: 10, partsPerSentence: 3, failAfterParts: 2 }),
    });
    try {
      const socket = await test.app.injectWS('/v1/audio/speech/stream');
      const session = record(socket);
      for (const frame of [...STREAMING_RUN, SESSION_CLOSE]) socket.send(frame);
      await session.until(() => session.closeCode() !== undefined, 'the end of the session');
      assert.equal(session.closeCode(), 1000);
      const { sentences, sessionDone, errors } = readReplies(session.messages);
      assert.equal(sentences.length, 3);
      assert.ok(sentences.every(({ done }) => done.error === true));
      assert.ok((sentences[0].done.total_bytes as number) > 0);
      assert.equal(errors.length, 3);
      assert.equal(typeof errors[0].message, 'string');
      assert.equal(errors[0].partial_audio, true, 'the first sentence had sent some audio');
      assert.equal(errors[0].action, 'discard');
      assert.equal(errors[1].partial_audio, undefined);
      // Each error comes inside its sentence, before its audio.done.
      const order = session.messages.filter((m) => m.type !== 'binary').map((m) => m.type);
      assert.deepEqual(order.slice(0, 3), ['audio.start', 'error', 'audio.done']);
      assert.deepEqual(sessionDone, [{ type: 'session.done', utterance_index: 0, total_sentences: 3 }]);
    } finally {
      await test.close();
    }
  });
});
