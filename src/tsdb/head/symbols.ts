// Interned label names and values of the head. A series stores symbol ids;
// each string exists once however many series use it. Reference counts let
// garbage collection drop strings no series needs any more.

export class SymbolTable {
  private readonly ids = new Map<string, number>();
  strs: string[] = [];
  private refs = new Uint32Array(1024);
  private readonly freeIds: number[] = [];

  get size(): number {
    return this.ids.size;
  }

  /** The id of s, or -1 when it is not interned. */
  lookup(s: string): number {
    const id = this.ids.get(s);
    return id === undefined ? -1 : id;
  }

  /** Interns s and takes one reference to it. */
  ref(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.strs.length;
      if (id === this.strs.length) this.strs.push(s);
      else this.strs[id] = s;
      this.ids.set(s, id);
      if (id >= this.refs.length) {
        const r = new Uint32Array(this.refs.length * 2);
        r.set(this.refs);
        this.refs = r;
      }
    }
    // id was just found or assigned: refs has an entry for it.
    this.refs[id]!++;
    return id;
  }

  /** Drops one reference; the string is forgotten when none is left. */
  // Callers pass ids of live symbols (held by a live label set).
  unref(id: number): void {
    const n = this.refs[id]! - 1;
    this.refs[id] = n;
    if (n === 0) {
      this.ids.delete(this.strs[id]!);
      this.strs[id] = '';
      this.freeIds.push(id);
    }
  }

  str(id: number): string {
    return this.strs[id]!;
  }
}
