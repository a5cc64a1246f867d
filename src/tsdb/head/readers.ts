// Reader epochs (isolation between queriers and memory reuse). Memory a
// querier may still read is not reused until every querier that was open
// when it was freed has closed: each deferred free carries the reader-id
// watermark of its time, and readers are released in id order. A
// truncation waits the same way before its data is dropped.
import type { Logger } from '../../logging/types.js';

/**
 * A querier open longer than this no longer holds memory back (it is
 * assumed leaked), as Prometheus stops waiting for readers after a while at
 * truncation.
 */
const READER_TIMEOUT_MS = 2 * 60_000;

/** What a deferred free releases: chunk bytes (a = addr, b = size class), a chunk entry (a) or a series slot (a). */
export const FREE_CHUNK_BYTES = 0;
export const FREE_CHUNK_ENTRY = 1;
export const FREE_SLOT = 2;

/** Performs a free once no reader can see the memory any more. */
export interface Freer {
  freeNow(kind: number, a: number, b: number): void;
}

export class ReaderEpochs {
  private nextId = 1;
  /** Open readers: id -> open time (ms). Ids increase, so the first key is the oldest. */
  private readonly open = new Map<number, number>();
  private pendKind: number[] = [];
  private pendA: number[] = [];
  private pendB: number[] = [];
  private pendWm: number[] = [];
  private pendHead = 0;
  /** Truncation waiting for older readers to finish before data is dropped. */
  private gcMint = -Infinity;
  private gcWm = 0;

  constructor(
    private readonly freer: Freer,
    private readonly logger: Logger,
  ) {}

  acquire(): number {
    const id = this.nextId++;
    this.open.set(id, Date.now());
    return id;
  }

  /** Forgets a reader; call drain() afterwards. */
  release(id: number): void {
    this.open.delete(id);
  }

  private oldest(): number {
    for (const id of this.open.keys()) return id;
    return Infinity;
  }

  /** Frees now, or once the readers open at this moment are gone. */
  free(kind: number, a: number, b: number): void {
    if (this.open.size === 0) {
      this.freer.freeNow(kind, a, b);
      return;
    }
    this.pendKind.push(kind);
    this.pendA.push(a);
    this.pendB.push(b);
    this.pendWm.push(this.nextId);
  }

  /** Asks for data older than mint to be dropped once the readers open at this moment are gone. */
  deferTruncation(mint: number): void {
    if (mint > this.gcMint) this.gcMint = mint;
    this.gcWm = this.nextId;
  }

  /** Runs the frees no open reader can observe; returns the truncation mint now due, or -Infinity. */
  drain(): number {
    const oldest = this.oldest();
    let i = this.pendHead;
    const n = this.pendWm.length;
    // i < n = pendWm.length, and the four pending lists are pushed together.
    while (i < n && this.pendWm[i]! <= oldest) {
      this.freer.freeNow(this.pendKind[i]!, this.pendA[i]!, this.pendB[i]!);
      i++;
    }
    if (i === n) {
      if (n > 0) {
        this.pendKind = [];
        this.pendA = [];
        this.pendB = [];
        this.pendWm = [];
      }
      this.pendHead = 0;
    } else {
      this.pendHead = i;
    }
    if (this.gcMint > -Infinity && oldest >= this.gcWm) {
      const mint = this.gcMint;
      this.gcMint = -Infinity;
      return mint;
    }
    return -Infinity;
  }

  /** Forgets readers open for longer than READER_TIMEOUT_MS; call drain() afterwards. */
  expire(now: number): void {
    for (const [id, since] of this.open) {
      if (now - since > READER_TIMEOUT_MS) {
        this.logger.warn('querier open for too long; head memory is reused despite it', { openForMs: now - since });
        this.open.delete(id);
      }
    }
  }
}
