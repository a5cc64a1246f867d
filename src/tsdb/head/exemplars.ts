// Exemplar storage: one ring buffer of exemplars shared by all series, as
// Prometheus's circular exemplar storage keeps them. Each series with
// exemplars has an index entry (found by its label set's key) pointing at its
// oldest and newest exemplar; a series' exemplars form a doubly linked list
// through the ring, oldest to newest. A new exemplar takes the ring's next
// slot, evicting whatever lived there, so memory stays at the configured
// size whatever the traffic. Entries are struct of arrays indexed by slot.
//
// Entries are keyed by label set, not by head series, so they outlive the
// head's garbage collection (as in Prometheus); they survive restarts through
// the WAL's exemplar records.
import { Counter, Gauge, type Registry } from 'prom-client';
import { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matcher.js';
import {
  EXEMPLAR_MAX_LABEL_SET_LENGTH,
  ExemplarLabelLengthError,
  OutOfOrderExemplarError,
  type Exemplar,
  type ExemplarQuerier,
  type ExemplarQueryResult,
} from '../../storage/interface.js';
import { NONE, growI32, nextCap } from './grow.js';

/** The exemplar storage's metrics, named as Prometheus names them (plus tsprom's label-length count). */
export class ExemplarMetrics {
  readonly appended: Counter;
  readonly outOfOrder: Counter;
  readonly labelLength: Counter;
  private readonly gauges: Gauge[];

  constructor(
    private readonly registry: Registry,
    state: () => { inStorage: number; series: number; oldestTs: number; max: number },
  ) {
    const registers = [registry];
    this.appended = new Counter({ name: 'prometheus_tsdb_exemplar_exemplars_appended_total', help: 'Total number of appended exemplars.', registers });
    this.outOfOrder = new Counter({
      name: 'prometheus_tsdb_exemplar_out_of_order_exemplars_total',
      help: 'Total number of out of order exemplar ingestion failed attempts.',
      registers,
    });
    this.labelLength = new Counter({
      name: 'tsprom_tsdb_exemplar_label_length_exceeded_total',
      help: `Exemplars refused because their label names and values together exceed ${EXEMPLAR_MAX_LABEL_SET_LENGTH} UTF-8 characters.`,
      registers,
    });
    const gauge = (name: string, help: string, read: (s: ReturnType<typeof state>) => number): Gauge =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(state()));
        },
      });
    this.gauges = [
      gauge('prometheus_tsdb_exemplar_exemplars_in_storage', 'Number of exemplars currently in circular storage.', (s) => s.inStorage),
      gauge('prometheus_tsdb_exemplar_series_with_exemplars_in_storage', 'Number of series with exemplars currently in circular storage.', (s) => s.series),
      gauge(
        'prometheus_tsdb_exemplar_last_exemplars_timestamp_seconds',
        'The timestamp of the oldest exemplar stored in circular storage: how far back the configured size reaches.',
        (s) => s.oldestTs / 1000,
      ),
      gauge('prometheus_tsdb_exemplar_max_exemplars', 'Total number of exemplars the exemplar storage can store, resizeable.', (s) => s.max),
    ];
  }

  unregister(): void {
    for (const m of [this.appended, this.outOfOrder, this.labelLength, ...this.gauges]) {
      this.registry.removeSingleMetric((m as unknown as { name: string }).name);
    }
  }
}

/** What validate() found. */
export const enum ExemplarCheck {
  /** Store it. */
  Ok = 0,
  /** The series' newest exemplar is the same one: nothing to do. */
  Duplicate = 1,
  /** The storage holds nothing (size 0). */
  Disabled = 2,
}

/** Code points of a string, as Go's utf8.RuneCountInString counts a valid string. */
function runeCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A surrogate pair is one character.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Index entries start with room for this many series; they never pass the ring's size. */
const INITIAL_ENTRIES = 64;

export class CircularExemplarStorage implements ExemplarQuerier {
  // The ring, by slot. owner[i] is the index entry of the exemplar in slot i, NONE when empty.
  private ts = new Float64Array(0);
  private vals = new Float64Array(0);
  private hasTs = new Uint8Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private owner = new Int32Array(0);
  private exLabels: (Labels | undefined)[] = [];
  private nextIndex = 0;
  private stored = 0;

  // Index entries, by entry id: the series' labels and its oldest and newest slot.
  private readonly byKey = new Map<string, number>();
  private seriesOf: (Labels | undefined)[] = [];
  private oldest = new Int32Array(0);
  private newest = new Int32Array(0);
  private readonly freeEntries: number[] = [];
  private entryCap = 0;
  private entriesUsed = 0;

  constructor(
    size: number,
    private readonly metrics: ExemplarMetrics | null = null,
  ) {
    this.resize(size);
  }

  /** Exemplars the ring holds at most. */
  get capacity(): number {
    return this.ts.length;
  }

  /** Exemplars held now. */
  get size(): number {
    return this.stored;
  }

  /** Series with at least one exemplar. */
  get numSeries(): number {
    return this.byKey.size;
  }

  /** Timestamp (ms) of the oldest exemplar in the ring by ingestion order; 0 when empty. */
  oldestTs(): number {
    if (this.capacity === 0) return 0;
    if (this.owner[this.nextIndex] !== NONE) return this.ts[this.nextIndex]!;
    return this.owner[0] !== NONE ? this.ts[0]! : 0;
  }

  /**
   * Whether e may be added to the series: Duplicate when it equals the
   * series' newest exemplar (or `pendingNewest`, an appender's newest not yet
   * committed, which passed this check and so is newer than any stored),
   * Disabled when the ring has no room at all.
   * Throws ExemplarLabelLengthError (counted) or OutOfOrderExemplarError
   * (counted when `countOOO`, i.e. on add).
   */
  validate(series: Labels, e: Exemplar, countOOO = false, pendingNewest: Exemplar | null = null): ExemplarCheck {
    if (this.capacity === 0) return ExemplarCheck.Disabled;
    let len = 0;
    const ls = e.labels;
    for (let i = 0; i < ls.length; i++) {
      len += runeCount(ls.nameAt(i)) + runeCount(ls.valueAt(i));
      if (len > EXEMPLAR_MAX_LABEL_SET_LENGTH) {
        this.metrics?.labelLength.inc();
        throw new ExemplarLabelLengthError();
      }
    }
    let nts: number;
    let nval: number;
    let nls: Labels;
    let nHasTs: boolean;
    if (pendingNewest !== null) {
      ({ ts: nts, value: nval, labels: nls, hasTs: nHasTs } = pendingNewest);
    } else {
      const id = this.byKey.get(series.key());
      if (id === undefined) return ExemplarCheck.Ok;
      // A live entry has a newest slot holding an exemplar.
      const n = this.newest[id]!;
      nts = this.ts[n]!;
      nval = this.vals[n]!;
      nls = this.exLabels[n]!;
      nHasTs = this.hasTs[n] === 1;
    }
    // Without timestamps on both, the scrape time differs each time while it is the same exemplar.
    const sameTs = !(e.hasTs || nHasTs) || e.ts === nts;
    if (sameTs && e.value === nval && e.labels.equals(nls)) return ExemplarCheck.Duplicate;
    // Same timestamp: order by value, then by label hash, so a repeat is caught without a scan.
    if (e.ts < nts || (e.ts === nts && (e.value < nval || (e.value === nval && e.labels.hash() < nls.hash())))) {
      if (countOOO) this.metrics?.outOfOrder.inc();
      throw new OutOfOrderExemplarError();
    }
    return ExemplarCheck.Ok;
  }

  /**
   * Adds an exemplar to the series (a repeat of its newest one is ignored).
   * Throws as validate() does.
   */
  add(series: Labels, e: Exemplar): void {
    if (this.validate(series, e, true) !== ExemplarCheck.Ok) return;
    const key = series.key();
    let id = this.byKey.get(key);
    let fresh = id === undefined;
    if (id === undefined) {
      id = this.newEntry(series);
      this.byKey.set(key, id);
    }
    const slot = this.nextIndex;
    const prevOwner = this.owner[slot]!;
    if (prevOwner !== NONE) {
      // The ring is full here: the oldest exemplar in ingestion order goes.
      if (this.unlink(slot)) {
        if (prevOwner === id) fresh = true;
        else this.dropEntry(prevOwner);
      }
    }
    this.ts[slot] = e.ts;
    this.vals[slot] = e.value;
    this.hasTs[slot] = e.hasTs ? 1 : 0;
    this.exLabels[slot] = e.labels;
    this.owner[slot] = id;
    this.stored++;
    this.next[slot] = NONE;
    if (fresh) {
      this.prev[slot] = NONE;
      this.oldest[id] = slot;
    } else {
      // Validation put it at or after the newest: it goes at the tip.
      const tip = this.newest[id]!;
      this.next[tip] = slot;
      this.prev[slot] = tip;
    }
    this.newest[id] = slot;
    this.nextIndex = (slot + 1) % this.capacity;
    this.metrics?.appended.inc();
  }

  /**
   * Changes the ring's size, keeping the newest exemplars (in ingestion
   * order) that fit; 0 empties it. Returns how many were kept.
   */
  resize(size: number): number {
    const n = Math.max(0, Math.floor(size));
    const oldCap = this.capacity;
    if (n === oldCap) return this.stored;
    // Occupied slots in ingestion order, oldest first.
    const order: number[] = [];
    for (let k = 0; k < oldCap; k++) {
      const i = (this.nextIndex + k) % oldCap;
      if (this.owner[i] !== NONE) order.push(i);
    }
    const drop = Math.max(0, order.length - n);
    for (let k = 0; k < drop; k++) {
      const i = order[k]!;
      const id = this.owner[i]!;
      if (this.unlink(i)) this.dropEntry(id);
    }
    const kept = order.length - drop;
    const where = new Int32Array(oldCap).fill(NONE);
    for (let k = 0; k < kept; k++) where[order[drop + k]!] = k;
    const ts = new Float64Array(n);
    const vals = new Float64Array(n);
    const hasTs = new Uint8Array(n);
    const prev = new Int32Array(n).fill(NONE);
    const next = new Int32Array(n).fill(NONE);
    const owner = new Int32Array(n).fill(NONE);
    const exLabels: (Labels | undefined)[] = new Array<Labels | undefined>(n);
    const move = (i: number): number => (i === NONE ? NONE : where[i]!);
    for (let k = 0; k < kept; k++) {
      const i = order[drop + k]!;
      ts[k] = this.ts[i]!;
      vals[k] = this.vals[i]!;
      hasTs[k] = this.hasTs[i]!;
      exLabels[k] = this.exLabels[i];
      owner[k] = this.owner[i]!;
      prev[k] = move(this.prev[i]!);
      next[k] = move(this.next[i]!);
    }
    for (const id of this.byKey.values()) {
      this.oldest[id] = move(this.oldest[id]!);
      this.newest[id] = move(this.newest[id]!);
    }
    this.ts = ts;
    this.vals = vals;
    this.hasTs = hasTs;
    this.prev = prev;
    this.next = next;
    this.owner = owner;
    this.exLabels = exLabels;
    this.nextIndex = n === 0 ? 0 : kept % n;
    return kept;
  }

  select(start: number, end: number, matcherSets: readonly (readonly Matcher[])[]): ExemplarQueryResult[] {
    const out: ExemplarQueryResult[] = [];
    if (this.capacity === 0) return out;
    for (const id of this.byKey.values()) {
      let i = this.oldest[id]!;
      if (this.ts[i]! > end || this.ts[this.newest[id]!]! < start) continue;
      const series = this.seriesOf[id]!;
      if (!matchesAny(series, matcherSets)) continue;
      const exemplars: Exemplar[] = [];
      // Timestamps grow along the list: stop past the end.
      while (i !== NONE && this.ts[i]! <= end) {
        const t = this.ts[i]!;
        if (t >= start) exemplars.push({ labels: this.exLabels[i]!, value: this.vals[i]!, ts: t, hasTs: this.hasTs[i] === 1 });
        i = this.next[i]!;
      }
      if (exemplars.length > 0) out.push({ seriesLabels: series, exemplars });
    }
    return out.sort((a, b) => Labels.compare(a.seriesLabels, b.seriesLabels));
  }

  /** Takes slot i out of its series' list; true when that left the series without exemplars. */
  private unlink(i: number): boolean {
    const id = this.owner[i]!;
    const p = this.prev[i]!;
    const nx = this.next[i]!;
    if (p !== NONE) this.next[p] = nx;
    else this.oldest[id] = nx;
    if (nx !== NONE) this.prev[nx] = p;
    else this.newest[id] = p;
    this.owner[i] = NONE;
    this.exLabels[i] = undefined;
    this.stored--;
    return this.oldest[id] === NONE;
  }

  private newEntry(series: Labels): number {
    let id = this.freeEntries.pop();
    if (id === undefined) {
      id = this.entriesUsed++;
      if (id >= this.entryCap) {
        this.entryCap = Math.max(INITIAL_ENTRIES, nextCap(this.entryCap));
        this.oldest = growI32(this.oldest, this.entryCap);
        this.newest = growI32(this.newest, this.entryCap);
      }
    }
    this.seriesOf[id] = series;
    this.oldest[id] = NONE;
    this.newest[id] = NONE;
    return id;
  }

  private dropEntry(id: number): void {
    const series = this.seriesOf[id]!;
    this.byKey.delete(series.key());
    this.seriesOf[id] = undefined;
    this.freeEntries.push(id);
  }
}

function matchesAny(ls: Labels, sets: readonly (readonly Matcher[])[]): boolean {
  outer: for (const ms of sets) {
    for (const m of ms) if (!m.matches(ls.get(m.name))) continue outer;
    return true;
  }
  return false;
}
