// bcrypt for the web config's basic_auth_users, through the bcryptjs package.
// The server checks passwords on worker threads (BcryptPool): a check costs
// tens to hundreds of milliseconds of CPU by design, and on the event loop
// every password guess would stall scrapes and queries for that long.
// bcryptjs's own async API only slices the work on the main thread.
import { Worker } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import type { BcryptJob, BcryptResult } from './bcrypt_worker.js';

const HASH_RE = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** True when `hash` is a bcrypt hash ($2a$, $2b$, $2y$) with a cost bcrypt accepts. */
export function isBcryptHash(hash: string): boolean {
  const m = HASH_RE.exec(hash);
  return m !== null && Number(m[1]) >= 4 && Number(m[1]) <= 31;
}

/** The cost (log2 of the rounds) of a hash isBcryptHash accepts. */
export function bcryptCost(hash: string): number {
  return Number(hash.slice(4, 6));
}

/** The bcrypt hash of `password` with the cost and salt of `settings` ("$2b$10$<22 salt chars>", or a whole hash). For tools and tests: it blocks. */
export function bcryptHash(password: string, settings: string): string {
  return bcrypt.hashSync(password, settings.slice(0, 29));
}

/** Checks a password against a bcrypt hash on the calling thread. For tools and tests: it blocks. */
export function bcryptCompareSync(password: string, hash: string): boolean {
  return isBcryptHash(hash) && bcrypt.compareSync(password, hash);
}

/** The pool's queue is full: the check is refused rather than queued. */
export class BcryptBusyError extends Error {
  override name = 'BcryptBusyError';
  constructor() {
    super('too many password checks waiting');
  }
}

export interface BcryptPoolOptions {
  /** Worker threads; default 1 (a second one takes a second core from scrapes and queries). */
  size?: number;
  /** Checks waiting for a worker beyond which new ones are refused with BcryptBusyError. */
  maxQueued?: number;
}

/**
 * Checks waiting for a worker, by default. At ~100 ms per check (cost 10) a
 * full queue is about 3 s of waiting, past which a client is better told to
 * come back than kept hanging.
 */
const DEFAULT_MAX_QUEUED = 32;

const WORKER_URL = new URL('./bcrypt_worker.js', import.meta.url);

interface Job {
  readonly msg: BcryptJob;
  resolve(ok: boolean): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker | null;
  job: Job | null;
}

/** What basic auth needs to check passwords (BcryptPool; tests pass fakes). */
export interface PasswordChecker {
  /** Resolves with whether `password` matches `hash`; rejects with BcryptBusyError when too many checks wait. */
  compare(password: string, hash: string): Promise<boolean>;
  /** Checks waiting now. */
  readonly queued: number;
  close(): Promise<void>;
}

/** Runs bcrypt checks on a few worker threads, one check per worker at a time, with a bounded queue. */
export class BcryptPool implements PasswordChecker {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly maxQueued: number;
  private nextId = 1;
  private closed = false;

  constructor(opts: BcryptPoolOptions = {}) {
    this.slots = Array.from({ length: Math.max(1, opts.size ?? 1) }, () => ({ worker: null, job: null }));
    this.maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  /** Checks waiting for a worker now. */
  get queued(): number {
    return this.queue.length;
  }

  /** Resolves with whether `password` matches `hash`; rejects with BcryptBusyError when the queue is full. */
  compare(password: string, hash: string): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('bcrypt pool closed'));
    if (this.queue.length >= this.maxQueued) return Promise.reject(new BcryptBusyError());
    return new Promise((resolve, reject) => {
      this.queue.push({ msg: { id: this.nextId++, password, hash }, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the workers; waiting and running checks are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new Error('bcrypt pool closed');
    for (const j of this.queue.splice(0)) j.reject(err);
    await Promise.all(
      this.slots.map(async (s) => {
        s.job?.reject(err);
        s.job = null;
        const w = s.worker;
        s.worker = null;
        if (w !== null) await w.terminate();
      }),
    );
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job !== null) continue;
      const job = this.queue.shift();
      if (job === undefined) return;
      slot.job = job;
      const w = slot.worker ?? this.spawn(slot);
      // A busy worker keeps the process alive until it answers; an idle one does not.
      w.ref();
      w.postMessage(job.msg);
    }
  }

  private spawn(slot: Slot): Worker {
    const w = new Worker(WORKER_URL);
    slot.worker = w;
    w.on('message', (r: BcryptResult) => {
      const job = slot.job;
      if (job === null || job.msg.id !== r.id) return;
      slot.job = null;
      w.unref();
      job.resolve(r.ok);
      this.dispatch();
    });
    const fail = (e: Error): void => {
      if (slot.worker !== w) return;
      // The next check starts a new worker.
      slot.worker = null;
      const job = slot.job;
      slot.job = null;
      job?.reject(e);
      if (!this.closed) this.dispatch();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`bcrypt worker exited with code ${code}`)));
    return w;
  }
}
