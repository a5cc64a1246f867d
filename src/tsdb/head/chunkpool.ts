// Slab allocator for head chunk bytes. Chunks live in SharedArrayBuffer
// pages (so query evaluation can later read them from worker threads
// without copies), carved into fixed size classes. An address is
// page * PAGE_SIZE + offset, a uint32.

/**
 * 256 KiB pages: big enough that page bookkeeping is negligible (one page
 * holds hundreds of chunks), small enough that a tiny database with a few
 * size classes in use stays around a megabyte.
 */
export const PAGE_SHIFT = 18;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const OFFSET_MASK = PAGE_SIZE - 1;
/** Addresses are uint32, so at most 2^14 pages (4 GiB of chunk bytes). */
const MAX_PAGES = 1 << (32 - PAGE_SHIFT);

/**
 * Size classes grow by about 1.5x so a chunk wastes at most a third of its
 * slot; the largest covers the 1 KiB cut threshold plus one worst-case append.
 */
export const SIZE_CLASSES: readonly number[] = [32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1280];

/** Thrown when the head would need more than 4 GiB of chunk bytes. */
export class ChunkPoolFullError extends Error {
  override name = 'ChunkPoolFullError';
}

export class ChunkPool {
  readonly pages: Uint8Array[] = [];
  /** Per class: the page currently carved and the next free offset in it. */
  private readonly curPage: Int32Array;
  private readonly curOff: Int32Array;
  /** Per class: a stack of freed addresses. */
  private readonly free: Uint32Array[];
  private readonly freeN: Int32Array;
  /** Bytes in slots handed out and not freed. */
  usedBytes = 0;

  constructor() {
    const n = SIZE_CLASSES.length;
    this.curPage = new Int32Array(n).fill(-1);
    this.curOff = new Int32Array(n);
    this.free = SIZE_CLASSES.map(() => new Uint32Array(64));
    this.freeN = new Int32Array(n);
  }

  /** Smallest class holding at least `bytes`, or -1 when none does. */
  static classFor(bytes: number): number {
    for (let c = 0; c < SIZE_CLASSES.length; c++) if (SIZE_CLASSES[c]! >= bytes) return c;
    return -1;
  }

  /** A zeroed slot of the class. */
  alloc(cls: number): number {
    const size = SIZE_CLASSES[cls]!;
    let addr: number;
    if (this.freeN[cls]! > 0) {
      addr = this.free[cls]![--this.freeN[cls]!]!;
      this.pages[addr >>> PAGE_SHIFT]!.fill(0, addr & OFFSET_MASK, (addr & OFFSET_MASK) + size);
    } else {
      let page = this.curPage[cls]!;
      if (page < 0 || this.curOff[cls]! + size > PAGE_SIZE) {
        if (this.pages.length >= MAX_PAGES) throw new ChunkPoolFullError('head chunk memory exhausted (4 GiB)');
        page = this.pages.length;
        this.pages.push(new Uint8Array(new SharedArrayBuffer(PAGE_SIZE)));
        this.curPage[cls] = page;
        this.curOff[cls] = 0;
      }
      addr = page * PAGE_SIZE + this.curOff[cls]!;
      this.curOff[cls] = this.curOff[cls]! + size;
    }
    this.usedBytes += size;
    return addr;
  }

  release(addr: number, cls: number): void {
    let st = this.free[cls]!;
    const n = this.freeN[cls]!;
    if (n === st.length) {
      const b = new Uint32Array(n * 2);
      b.set(st);
      this.free[cls] = st = b;
    }
    st[n] = addr;
    this.freeN[cls] = n + 1;
    this.usedBytes -= SIZE_CLASSES[cls]!;
  }

  page(addr: number): Uint8Array {
    return this.pages[addr >>> PAGE_SHIFT]!;
  }

  static offset(addr: number): number {
    return addr & OFFSET_MASK;
  }

  /** Bytes of all pages (what the process holds for chunks). */
  reservedBytes(): number {
    return this.pages.length * PAGE_SIZE;
  }
}
