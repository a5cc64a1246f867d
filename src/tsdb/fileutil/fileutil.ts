// File helpers of the TSDB: durable directory entries (fsyncDir), the
// directory lock (lock.ts) and cooperative pacing of long jobs (pacer.ts).
// A leaf room: imports nothing of the project.
import * as fs from 'node:fs';

/** Makes a directory's entries (new files, renames) durable. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems do not allow fsync on directories; the data itself is synced.
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
