import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { LineFileSink, WRITE_BATCH_BYTES, type DropReason, type SinkOp } from './sink.js';
import { PartialWriteError, type LogFileHandle, type LogFileSystem } from './log_fs.js';

/** A scripted disk: `script` decides, per write, how many bytes land before an error (or all). */
class ScriptedDisk implements LogFileSystem {
  text = '';
  openFails = false;
  /** Bytes of the next writes to accept before failing; undefined = accept all. */
  script: Array<number | undefined> = [];
  writes = 0;
  /** While set, writes wait (a stalled disk) until release(). */
  held: Array<() => void> | null = null;
  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const go of waiting) go();
  }
  open(): { handle: LogFileHandle; size: number } {
    if (this.openFails) throw Object.assign(new Error('open: input/output error'), { code: 'EIO' });
    return {
      handle: {
        write: async (data) => {
          this.writes++;
          // The bytes are taken when the disk gets to them, as the kernel would.
          if (this.held !== null) await new Promise<void>((go) => this.held!.push(go));
          const cut = this.script.shift();
          if (cut === undefined) {
            this.text += Buffer.from(data).toString();
            return;
          }
          this.text += Buffer.from(data.subarray(0, cut)).toString();
          const err = Object.assign(new Error('write: input/output error'), { code: 'EIO' });
          throw cut > 0 ? new PartialWriteError(err, cut) : err;
        },
        close: async () => {},
      },
      size: Buffer.byteLength(this.text),
    };
  }
  async rename(): Promise<void> {}
  async remove(): Promise<void> {}
}

function recorder() {
  const ev = { written: 0, bytes: 0, dropped: {} as Record<string, number>, failed: [] as string[] };
  return {
    ev,
    events: {
      written: (b: number, n: number) => ((ev.bytes += b), (ev.written += n)),
      dropped: (n: number, r: DropReason) => (ev.dropped[r] = (ev.dropped[r] ?? 0) + n),
      failed: (op: SinkOp, e: Error) => ev.failed.push(`${op}: ${e.message}`),
    },
  };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));

describe('LineFileSink', () => {
  test('a partial write is followed by a newline so every later line is whole', async () => {
    const disk = new ScriptedDisk();
    const { ev, events } = recorder();
    const sink = new LineFileSink('/f', { fs: disk, events, retryDelayMs: 1 });
    disk.script = [5];
    sink.push('{"a":1}\n');
    await sink.idle();
    await wait(5);
    sink.push('{"b":2}\n');
    await sink.idle();
    assert.equal(disk.text, '{"a":\n{"b":2}\n');
    assert.deepEqual(ev.dropped, { write_error: 1 });
    assert.deepEqual(ev.failed, ['write: write: input/output error']);
    await sink.close();
  });

  test('a failed reopen drops lines until the file can be opened again', async () => {
    const disk = new ScriptedDisk();
    const { ev, events } = recorder();
    const sink = new LineFileSink('/f', { fs: disk, events, retryDelayMs: 1 });
    disk.openFails = true;
    sink.reopen();
    sink.push('x\n');
    await sink.idle();
    assert.deepEqual(ev.dropped, { write_error: 1 });
    assert.deepEqual(ev.failed.slice(0, 2), ['open: open: input/output error', 'open: open: input/output error']);
    disk.openFails = false;
    await wait(5);
    sink.push('y\n');
    await sink.idle();
    assert.equal(disk.text, 'y\n');
    await sink.close();
    sink.push('z\n');
    assert.equal((ev.dropped as Record<string, number>).closed, 1);
  });

  test('lines queued in one turn of the event loop go out in one write', async () => {
    const disk = new ScriptedDisk();
    let writes = 0;
    const open = disk.open.bind(disk);
    disk.open = () => {
      const o = open();
      const w = o.handle.write;
      o.handle.write = (d) => (writes++, w(d));
      return o;
    };
    const { ev, events } = recorder();
    const sink = new LineFileSink('/f', { fs: disk, events });
    for (let i = 0; i < 100; i++) sink.push(`${i}\n`);
    await sink.idle();
    assert.equal(writes, 1);
    assert.equal(ev.written, 100);
    assert.equal(ev.bytes, Buffer.byteLength(disk.text));
    await sink.close();
  });

  test('a full batch is written at once; fewer lines wait for the delay or a flush', async () => {
    const disk = new ScriptedDisk();
    const { ev, events } = recorder();
    const sink = new LineFileSink('/f', { fs: disk, events });
    sink.push('small\n');
    await turn();
    await turn();
    assert.equal(disk.writes, 0, 'one short line waits');
    const line = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < WRITE_BATCH_BYTES / 1024; i++) sink.push(line);
    await turn();
    await turn();
    assert.equal(disk.writes, 1);
    assert.equal(ev.written, 1 + WRITE_BATCH_BYTES / 1024);
    // Nobody waits for this one: the delay writes it.
    sink.push('late\n');
    for (let i = 0; i < 100 && disk.writes < 2; i++) await wait(10);
    assert.equal(disk.writes, 2);
    assert.ok(disk.text.endsWith('late\n'));
    await sink.close();
  });

  test('a stalled disk: the buffer grows chunk by chunk to its bound, then drops; everything queued goes out in order', async () => {
    const disk = new ScriptedDisk();
    disk.held = [];
    const { ev, events } = recorder();
    const sink = new LineFileSink('/f', { fs: disk, events, maxBufferBytes: 3 * 1024 * 1024 });
    // 100 KiB lines: ten fill a 1 MiB chunk, three chunks reach the bound.
    const line = (i: number) => String(i).padStart(6, '0') + 'x'.repeat(100 * 1024 - 7) + '\n';
    sink.push(line(0));
    void sink.idle();
    await turn();
    assert.equal(disk.writes, 1, 'the first write is stuck');
    for (let i = 1; i < 40; i++) sink.push(line(i));
    assert.equal(ev.dropped.buffer_full, 10);
    assert.equal(sink.bufferedBytes, 30 * 100 * 1024);
    disk.release();
    await sink.idle();
    const got = disk.text.split('\n').filter(Boolean).map((l) => Number(l.slice(0, 6)));
    assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
    assert.equal(sink.bufferedBytes, 0);
    // The memory is back: as many lines fit again.
    disk.held = [];
    sink.push(line(100));
    void sink.idle();
    await turn();
    for (let i = 101; i < 140; i++) sink.push(line(i));
    assert.equal(ev.dropped.buffer_full, 20);
    disk.release();
    await sink.close();
    assert.equal(disk.text.split('\n').filter(Boolean).length, 60);
  });

  test('a line longer than a chunk gets a chunk of its own', async () => {
    const disk = new ScriptedDisk();
    const { ev, events } = recorder();
    const sink = new LineFileSink('/f', { fs: disk, events, maxBufferBytes: 4 * 1024 * 1024 });
    const long = 'y'.repeat(1536 * 1024) + '\n';
    sink.push('a\n');
    sink.push(long);
    sink.push('b\n');
    await sink.idle();
    assert.equal(disk.text, 'a\n' + long + 'b\n');
    assert.equal(ev.written, 3);
    // After the buffer emptied: the long line goes behind an empty chunk and is still written.
    sink.push(long);
    await sink.idle();
    assert.equal(disk.text, 'a\n' + long + 'b\n' + long);
    sink.push('z'.repeat(5 * 1024 * 1024) + '\n');
    assert.equal(ev.dropped.buffer_full, 1, 'but not one past the bound');
    await sink.close();
  });

  test('lines can be encoded in place: spaceFor, then commit', async () => {
    const disk = new ScriptedDisk();
    const { ev, events } = recorder();
    const sink = new LineFileSink('/f', { fs: disk, events });
    assert.equal(sink.spaceFor(10), null, 'no buffer before the first line');
    sink.push('a\n');
    const space = sink.spaceFor(10)!;
    const n = space.bytes.write('b\n', space.len);
    sink.commit(space, n);
    assert.equal(sink.spaceFor(2 * 1024 * 1024), null, 'more than the chunk holds');
    await sink.idle();
    assert.equal(disk.text, 'a\nb\n');
    assert.equal(ev.written, 2);
    await sink.close();
    assert.equal(sink.spaceFor(1), null, 'closed');
  });

  test('close writes what is queued', async () => {
    const disk = new ScriptedDisk();
    const sink = new LineFileSink('/f', { fs: disk, events: recorder().events });
    sink.push('last\n');
    await sink.close();
    assert.equal(disk.text, 'last\n');
  });
});
