// Where query records become lines: encodes each batch into the file's write buffer and the ring of
// recent entries. It runs beside the file it writes: on the query log's worker thread in the server,
// or on the caller's thread when the file system is simulated (tests).
import { ByteWriter } from '../logging/byte_writer.js';
import { JsonLogFiles, type FileSettings, type JsonLogFilesOptions } from '../logging/json_log.js';
import type { QueryRecords } from './lines.js';
import { LineRing } from '../logging/ring.js';
import type { SinkEvents } from '../logging/sink.js';

/** Lines that do not fit the file's buffer in place are encoded here; a longer one gets its own buffer. */
const SCRATCH_BYTES = 64 * 1024;

export interface QueryLogWriterOptions extends JsonLogFilesOptions {
  ringSize: number;
  ringBytes: number;
}

export class QueryLogWriter {
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  private readonly writer = new ByteWriter(this.scratch);
  private readonly files: JsonLogFiles;
  private readonly ring: LineRing;
  private path: string | null = null;

  constructor(events: SinkEvents, opts: QueryLogWriterOptions) {
    this.files = new JsonLogFiles(events, opts);
    this.ring = new LineRing(opts.ringSize, opts.ringBytes);
  }

  bufferedBytes(): number {
    return this.files.bufferedBytes();
  }

  /** Opens, reopens or (path null) closes the file; throws LogFileOpenError and changes nothing when it cannot be opened. */
  configure(path: string | null, settings: FileSettings): void {
    const wanted = new Map<string, FileSettings>();
    if (path !== null) wanted.set(path, settings);
    this.files.configure(wanted);
    this.path = path;
  }

  /** Encodes the records into the file's buffer (in place when there is room) and the ring. */
  write(b: QueryRecords): void {
    const n = b.count;
    const sink = this.path === null ? undefined : this.files.get(this.path);
    const w = this.writer;
    for (let k = 0; k < n; k++) {
      const space = sink?.spaceFor(b.maxLineBytes(k)) ?? null;
      const start = space === null ? 0 : space.len;
      if (space === null) w.reset(this.scratch);
      else w.reset(space.bytes, start);
      try {
        b.encode(k, w);
      } catch {
        // A record that cannot be encoded (a bug upstream) is skipped, the others are not.
        continue;
      }
      this.ring.push(w.buf, start, w.pos);
      if (space !== null) sink!.commit(space, w.pos - start);
      else sink?.pushBytes(w.buf, 0, w.pos);
    }
  }

  /** Starts writing what is buffered now rather than waiting for a full write batch. */
  flush(): void {
    if (this.path !== null) this.files.get(this.path)?.flush();
  }

  /** The newest lines, newest first. */
  recent(limit: number): string[] {
    return this.ring.newest(limit);
  }

  reopen(): void {
    this.files.reopen();
  }

  idle(): Promise<void> {
    return this.files.idle();
  }

  async close(): Promise<void> {
    this.path = null;
    await this.files.close();
  }
}
