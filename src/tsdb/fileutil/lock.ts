// Directory lock: a `lock` file holding the owner's PID. Node has no flock,
// so liveness of the recorded PID decides whether a lock left behind by a
// crashed process may be taken over.
import * as fs from 'node:fs';
import * as path from 'node:path';

const LOCK_FILE = 'lock';

/** Another live process (or this one) already has the directory open. */
export class DBLockedError extends Error {
  override name = 'DBLockedError';
}

const lockedHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  release(): void;
}

export function acquireLock(dir: string): DirLock {
  const real = fs.realpathSync(dir);
  const file = path.join(real, LOCK_FILE);
  if (lockedHere.has(real)) {
    throw new DBLockedError(`lock DB directory ${dir}: already open in this process (lock file ${file})`);
  }
  const content = `${process.pid}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, content, { flag: 'wx' });
      lockedHere.add(real);
      return {
        release() {
          lockedHere.delete(real);
          try {
            if (fs.readFileSync(file, 'utf8') === content) fs.rmSync(file, { force: true });
          } catch {
            // Already gone.
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    } catch {
      // Vanished between our attempts: try again.
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
      throw new DBLockedError(
        `lock DB directory ${dir}: in use by process ${owner} (lock file ${file}); stop that process or use another directory`,
      );
    }
    // Left behind by a process that no longer runs: take it over.
    fs.rmSync(file, { force: true });
  }
  throw new DBLockedError(`lock DB directory ${dir}: another process keeps taking the lock file ${file}`);
}
