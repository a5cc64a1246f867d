// The file operations the log sinks need, behind an interface so tests can simulate a slow or full disk.
import * as fs from 'node:fs';

export interface LogFileHandle {
  /**
   * Appends all of `data`; rejects on any write error (ENOSPC, EIO, ...). When part of `data` reached
   * the file before the error, the rejection is a PartialWriteError saying how much.
   */
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface LogFileSystem {
  /** Opens `path` for appending, creating it; returns its current size. Throws when it cannot. */
  open(path: string): { handle: LogFileHandle; size: number };
  rename(from: string, to: string): Promise<void>;
  /** Removes `path`; a missing file is not an error. */
  remove(path: string): Promise<void>;
}

/** A write that failed after some bytes were written; the sink then starts its next write on a new line. */
export class PartialWriteError extends Error {
  override name = 'PartialWriteError';
  constructor(
    override readonly cause: Error,
    readonly bytesWritten: number,
  ) {
    super(cause.message);
  }
  /** The underlying errno code (ENOSPC, EIO, ...), if any. */
  get code(): string | undefined {
    return (this.cause as NodeJS.ErrnoException).code;
  }
}

class NodeLogFile implements LogFileHandle {
  constructor(private readonly fd: number) {}

  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const step = (off: number): void => {
        fs.write(this.fd, data, off, data.length - off, null, (err, n) => {
          if (err) reject(off > 0 ? new PartialWriteError(err, off) : err);
          else if (off + n < data.length) step(off + n);
          else resolve();
        });
      };
      step(0);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(err) : resolve())));
  }
}

/** The real file system: O_APPEND writes on the libuv thread pool, so a slow disk never blocks the event loop. */
export const nodeLogFileSystem: LogFileSystem = Object.freeze({
  open(path: string) {
    // 0o666 before umask, as Prometheus opens its query log.
    const fd = fs.openSync(path, 'a', 0o666);
    try {
      return { handle: new NodeLogFile(fd), size: fs.fstatSync(fd).size };
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  },
  rename(from: string, to: string) {
    return fs.promises.rename(from, to);
  },
  async remove(path: string) {
    await fs.promises.rm(path, { force: true });
  },
});
