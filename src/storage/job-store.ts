import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { JobStore, StoredVideoJob } from '../core/video-jobs.ts';
import type { VideoJob } from '../core/video-service.ts';
import { isRandomId } from '../core/random-id.ts';

/** A job's input as stored: the speech job and the avatar, its uploaded photo or video in its own file. */
interface StoredInput {
  speech: VideoJob['speech'];
  avatar: { kind: 'image' | 'video'; fileName?: string; name?: string } | { kind: 'named'; name: string };
  sentFields?: readonly string[];
}

/**
 * Video jobs kept on disk, one folder per store: `<id>.json` holds the job's state (rewritten when
 * its status changes), `<id>.input.json` and `<id>.avatar` what is needed to run it again after a
 * restart (removed once it has ended). Writes go through a temporary name and a rename, so a crash
 * leaves the previous version, never half a file.
 */
export class FileJobStore implements JobStore {
  constructor(private readonly options: { directory: string; logger?: Logger }) {}

  private file(id: string, suffix: string): string {
    if (!isRandomId(id)) throw new Error(`not a job id: ${id}`);
    return path.join(this.options.directory, `${id}${suffix}`);
  }

  private async writeAtomically(file: string, data: string | Buffer): Promise<void> {
    await mkdir(this.options.directory, { recursive: true });
    const partial = `${file}.partial`;
    await writeFile(partial, data);
    await rename(partial, file);
  }

  async save(stored: StoredVideoJob): Promise<void> {
    const { state, job, callbackUrl, attempts } = stored;
    const id = state.job_id;
    if (job) {
      const { avatar } = job;
      const input: StoredInput = {
        speech: job.speech,
        avatar:
          avatar.kind === 'named'
            ? avatar
            : { kind: avatar.kind, fileName: avatar.fileName, name: avatar.name },
        sentFields: job.sentFields,
      };
      if (avatar.kind !== 'named') await this.writeAtomically(this.file(id, '.avatar'), avatar.bytes);
      await this.writeAtomically(this.file(id, '.input.json'), JSON.stringify(input));
    }
    await this.writeAtomically(
      this.file(id, '.json'),
      JSON.stringify({ state, attempts, ...(callbackUrl ? { callbackUrl } : {}) }),
    );
    // The input goes after the state that no longer needs it: a crash in between leaves an ended job
    // with a stale input file, never a running one without its input.
    if (!job) {
      await unlink(this.file(id, '.input.json')).catch(() => {});
      await unlink(this.file(id, '.avatar')).catch(() => {});
    }
  }

  async loadAll(): Promise<StoredVideoJob[]> {
    const names = await readdir(this.options.directory).catch(() => [] as string[]);
    const jobs: StoredVideoJob[] = [];
    for (const name of names) {
      const file = path.join(this.options.directory, name);
      if (name.endsWith('.partial')) {
        await unlink(file).catch(() => {}); // a write a crash interrupted
        continue;
      }
      const id = name.slice(0, -'.json'.length);
      if (!name.endsWith('.json') || !isRandomId(id)) continue;
      try {
        const record = JSON.parse(await readFile(file, 'utf8')) as Omit<StoredVideoJob, 'job'>;
        jobs.push({ ...record, job: await this.readInput(id) });
      } catch (error) {
        this.options.logger?.warn({ err: error }, `video job ${id} could not be read back; it is dropped`);
      }
    }
    return jobs;
  }

  private async readInput(id: string): Promise<VideoJob | undefined> {
    const text = await readFile(this.file(id, '.input.json'), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const input = JSON.parse(text) as StoredInput;
    const avatar: VideoJob['avatar'] =
      input.avatar.kind === 'named'
        ? input.avatar
        : { ...input.avatar, bytes: await readFile(this.file(id, '.avatar')) };
    return { speech: input.speech, avatar, sentFields: input.sentFields };
  }

  async remove(id: string): Promise<void> {
    for (const suffix of ['.json', '.input.json', '.avatar'])
      await unlink(this.file(id, suffix)).catch(() => {});
  }
}
