// Slab allocator for head chunk bytes. Chunks live in SharedArrayBuffer
// pages (so query evaluation can later read them from worker threads
// without copies), carved into fixed size classes. An address is
// page * PAGE_SIZE + offset, a uint32. A page whose slots are all free is
// dropped (its memory goes back to the garbage collector) and its number
// reused.

/**
 * 256 KiB pages: big enough that page bookkeeping is negligible (one page
 * holds hundreds of chunks), small enough that a tiny database with a few
 * size classes in use stays around a megabyte.
 */
const PAGE_SHIFT = 18;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
const OFFSET_MASK = PAGE_SIZE - 1;
/** Addresses are uint32, so at most 2^14 pages (4 GiB of chunk bytes). */
const MAX_PAGES = 1 << (32 - PAGE_SHIFT);
const NO_PAGE = new Uint8Array(0);

/**
 * Size classes grow by about 1.5x so a chunk wastes at most a third of its
 * slot; the largest covers the 1 KiB cut threshold plus one worst-case append.
 */
export const SIZE_CLASSES: readonly number[] = [32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1280];

/** Thrown when the head would need more than 4 GiB of chunk bytes. */
class ChunkPoolFullError extends Error {
  override name = 'ChunkPoolFullError';
}

export class ChunkPool {
  readonly pages: Uint8Array[] = [];
  /** Per page: live slots, and a generation bumped when the page is dropped. */
  private pageLive = new Int32Array(64);
  private pageGen = new Uint32Array(64);
  private readonly freePages: number[] = [];
  private livePages = 0;
  /** Per class: the page currently carved and the next free offset in it. */
  private readonly curPage: Int32Array;
  private readonly curOff: Int32Array;
  /** Per class: a stack of freed addresses with the generation of their page at free time. */
  private readonly free: Uint32Array[];
  private readonly freeGen: Uint32Array[];
  private readonly freeN: Int32Array;
  /** Bytes in slots handed out and not freed. */
  usedBytes = 0;

  constructor() {
    const n = SIZE_CLASSES.length;
    this.curPage = new Int32Array(n).fill(-1);
    this.curOff = new Int32Array(n);
    this.free = SIZE_CLASSES.map(() => new Uint32Array(64));
    this.freeGen = SIZE_CLASSES.map(() => new Uint32Array(64));
    this.freeN = new Int32Array(n);
  }

  /** Smallest class holding at least `bytes`, or -1 when none does. */
  // c < SIZE_CLASSES.length.
  static classFor(bytes: number): number {
    for (let c = 0; c < SIZE_CLASSES.length; c++) if (SIZE_CLASSES[c]! >= bytes) return c;
    return -1;
  }

  private newPage(): number {
    let page: number;
    if (this.freePages.length > 0) {
      page = this.freePages.pop()!;
    } else {
      if (this.pages.length >= MAX_PAGES) throw new ChunkPoolFullError('head chunk memory exhausted (4 GiB)');
      page = this.pages.length;
      this.pages.push(NO_PAGE);
      if (page >= this.pageLive.length) {
        const n = this.pageLive.length * 2;
        const live = new Int32Array(n);
        live.set(this.pageLive);
        this.pageLive = live;
        const gen = new Uint32Array(n);
        gen.set(this.pageGen);
        this.pageGen = gen;
      }
    }
    this.pages[page] = new Uint8Array(new SharedArrayBuffer(PAGE_SIZE));
    this.pageLive[page] = 0;
    this.livePages++;
    return page;
  }

  /** A zeroed slot of the class. */
  // cls is a valid size class (classFor), so every per-class array has an entry; addresses map to allocated pages.
  alloc(cls: number): number {
    const size = SIZE_CLASSES[cls]!;
    let addr = -1;
    const st = this.free[cls]!;
    const gens = this.freeGen[cls]!;
    while (this.freeN[cls]! > 0) {
      const i = --this.freeN[cls]!;
      const a = st[i]!;
      // Entries of pages dropped since they were freed are stale.
      if (this.pageGen[a >>> PAGE_SHIFT] === gens[i]) {
        addr = a;
        break;
      }
    }
    if (addr >= 0) {
      this.pages[addr >>> PAGE_SHIFT]!.fill(0, addr & OFFSET_MASK, (addr & OFFSET_MASK) + size);
    } else {
      let page = this.curPage[cls]!;
      if (page < 0 || this.curOff[cls]! + size > PAGE_SIZE) {
        page = this.newPage();
        this.curPage[cls] = page;
        this.curOff[cls] = 0;
      }
      addr = page * PAGE_SIZE + this.curOff[cls]!;
      this.curOff[cls] = this.curOff[cls]! + size;
    }
    this.pageLive[addr >>> PAGE_SHIFT]!++;
    this.usedBytes += size;
    return addr;
  }

  // addr/cls come from alloc(): per-class and per-page entries exist.
  release(addr: number, cls: number): void {
    this.usedBytes -= SIZE_CLASSES[cls]!;
    const page = addr >>> PAGE_SHIFT;
    if (--this.pageLive[page]! === 0 && page !== this.curPage[cls]) {
      // Every slot of the page is free: drop it rather than keep it for reuse.
      this.pages[page] = NO_PAGE;
      this.pageGen[page]!++;
      this.freePages.push(page);
      this.livePages--;
      return;
    }
    let st = this.free[cls]!;
    let gens = this.freeGen[cls]!;
    const n = this.freeN[cls]!;
    if (n === st.length) {
      const b = new Uint32Array(n * 2);
      b.set(st);
      this.free[cls] = st = b;
      const g = new Uint32Array(n * 2);
      g.set(gens);
      this.freeGen[cls] = gens = g;
    }
    st[n] = addr;
    gens[n] = this.pageGen[page]!;
    this.freeN[cls] = n + 1;
  }

  page(addr: number): Uint8Array {
    return this.pages[addr >>> PAGE_SHIFT]!;
  }

  static offset(addr: number): number {
    return addr & OFFSET_MASK;
  }

  /** Bytes of all pages held (what the process holds for chunks). */
  reservedBytes(): number {
    return this.livePages * PAGE_SIZE;
  }
}
