import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError, describeConfig, loadConfig, type Config } from '../config.ts';
import type { ModelVariant } from '../models/model-registry.ts';

/** `.env` in the working directory, if present; variables already set in the environment win. */
function loadDotEnv(): void {
  if (existsSync('.env')) process.loadEnvFile('.env');
}

function configOrExit(): Config {
  loadDotEnv();
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${error.message}\nFix these in .env or the environment (see .env.example).`);
      process.exit(2);
    }
    throw error;
  }
}

// `npm run cli -- config | head`: a reader that stops early is not an error (no EPIPE stack trace).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command()
  .name('npm run cli --')
  .description('Voice clone and talking-head server: serve, manage models, speak');

program
  .command('serve')
  .description('start the HTTP server (what `npm start` runs)')
  .action(async () => {
    const { startServer } = await import('../server.ts');
    await startServer(configOrExit());
  });

program
  .command('config')
  .description('print every setting with its default and meaning, in .env format (how .env.example is made)')
  .action(() => {
    console.log('# Settings, read from the environment or this file (copy it to .env). Defaults shown.\n');
    for (const entry of describeConfig())
      console.log(`# ${entry.description}\n${entry.name}=${entry.defaultValue}\n`);
  });

const models = program.command('models').description('install, list and synthesize models');

models
  .command('list')
  .description('show installed models and where they came from')
  .action(async () => {
    const { runModelsListCommand } = await import('../models/installed-models-command.ts');
    await runModelsListCommand(configOrExit());
  });

models
  .command('pull')
  .argument('<key>', 'base_0.6b, base_1.7b or musetalk')
  .option('--dtype <dtype>', 'float32, float16, int8, int4 or all (default: TTS_DTYPE)')
  .option('--gpu', 'export the official checkpoint with CUDA PyTorch on the GPU (needed for float16)')
  .option('--keep-checkpoint', 'keep the downloaded official checkpoint under MODEL_DIR/.checkpoints')
  .description(
    'install a model: an export in our layout from MODEL_REPO_*, else the official checkpoint from the hub ' +
      '(HF_ENDPOINT, HF_TOKEN), exported and checked on this machine',
  )
  .action(
    async (
      key: string,
      options: { dtype?: ModelVariant | 'all'; gpu?: boolean; keepCheckpoint?: boolean },
    ) => {
      const { runModelsPullCommand } = await import('../models/pull-command.ts');
      await runModelsPullCommand(key, { config: configOrExit(), ...options });
    },
  );

models
  .command('synth')
  .argument('<key>', 'base_0.6b, base_1.7b or musetalk')
  .requiredOption('--out <dir>', 'directory to write the model into')
  .option('--dtype <dtype>', 'float32, float16, int8 or int4 (Qwen3 only)', 'float32')
  .option(
    '--size <size>',
    'tiny (tests) or real (real layer counts and sizes, random weights, for benchmarks)',
    'tiny',
  )
  .description('write a synthetic model with the real layout (random weights) for tests and benchmarks')
  .action(async (key: string, options: { out: string; dtype: string; size: string }) => {
    const { runModelsSynthCommand } = await import('../models/models-synth-command.ts');
    await runModelsSynthCommand(key, options);
  });

program
  .command('speak')
  .description('speak one text in a cloned voice with a model directory, to a WAV file (no server needed)')
  .requiredOption('--model <dir>', 'an exported model directory (with manifest.json)')
  .requiredOption('--voice <file>', 'reference speech (WAV, MP3, FLAC, OGG or M4A)')
  .option('--ref-text <text>', 'the transcript of --voice (needed unless --x-vector-only)')
  .requiredOption('--text <text>', 'what to say (spoken as given: no normalization, no sentence splitting)')
  .option('--out <file>', 'the WAV file to write', 'speech.wav')
  .option('--language <name>', 'Auto, Korean, English …', 'Auto')
  .option('--x-vector-only', 'clone from the speaker embedding alone')
  .option('--seed <n>', 'seed for sampling', '0')
  .option('--greedy', 'no sampling in the talker nor in the code predictor (repeatable, for parity checks)')
  .option(
    '--max-new-tokens <n>',
    'most codec frames + 1 (default: the model default, capped by TTS_MAX_NEW_TOKENS)',
  )
  .option(
    '--streaming',
    'decode in streamed pieces, as the SSE and OpenAI routes do (default: official chunks)',
  )
  .option('--codes <file>', 'also write the generated codec codes as JSON')
  .action(async (options: import('./speak-command.ts').SpeakOptions) => {
    const { runSpeakCommand } = await import('./speak-command.ts');
    await runSpeakCommand(options, configOrExit());
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Errors meant for people (bad arguments, an unreachable hub, a missing model) print as one clear line.
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.DEBUG) console.error(error);
  process.exit(1);
}
