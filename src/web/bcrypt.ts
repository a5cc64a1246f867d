// bcrypt hash verification ($2a$, $2b$, $2y$), for the web config's
// basic_auth_users. Blowfish's initial state is the hexadecimal expansion of
// pi; rather than carry 1,042 constants we compute those digits once, lazily,
// with BigInt arithmetic (Machin's formula), and check the well-known first
// words so a mistake cannot go unnoticed.
import { timingSafeEqual } from 'node:crypto';

const P_WORDS = 18;
const S_WORDS = 1024;
const STATE_WORDS = P_WORDS + S_WORDS;

let initialState: Uint32Array | undefined;

/** atan(1/x) scaled by `one`, by its alternating Taylor series. */
function atanInv(x: bigint, one: bigint): bigint {
  const x2 = x * x;
  let power = one / x;
  let sum = power;
  let n = 1n;
  let negative = true;
  while (power !== 0n) {
    power /= x2;
    n += 2n;
    const term = power / n;
    sum = negative ? sum - term : sum + term;
    negative = !negative;
  }
  return sum;
}

/** The first STATE_WORDS 32-bit words of pi's fractional part in hexadecimal (Blowfish's P-array then S-boxes). */
function piWords(): Uint32Array {
  if (initialState !== undefined) return initialState;
  const bits = BigInt(STATE_WORDS * 32);
  // Guard bits absorb the truncation error of the series (a few units per term).
  const guard = 64n;
  const one = 1n << (bits + guard);
  const pi = 16n * atanInv(5n, one) - 4n * atanInv(239n, one);
  const frac = (pi - 3n * one) >> guard;
  const words = new Uint32Array(STATE_WORDS);
  let v = frac;
  for (let i = STATE_WORDS - 1; i >= 0; i--) {
    words[i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
  // P[0], P[17] and S[3][255] as published with Blowfish.
  if (words[0] !== 0x243f6a88 || words[17] !== 0x8979fb1b || words[STATE_WORDS - 1] !== 0x3ac372e6) {
    throw new Error('BUG: computed Blowfish initial state does not match pi');
  }
  initialState = words;
  return words;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;
  private readonly lr = new Uint32Array(2);

  constructor() {
    const state = piWords();
    this.p = state.slice(0, P_WORDS);
    this.s = state.slice(P_WORDS);
  }

  private f(x: number): number {
    const s = this.s;
    // Each index is a byte of x plus 0, 256, 512 or 768: below S_WORDS = s.length.
    return (((s[x >>> 24]! + s[256 + ((x >>> 16) & 255)]!) ^ s[512 + ((x >>> 8) & 255)]!) + s[768 + (x & 255)]!) >>> 0;
  }

  /** Encrypts the block held in lr in place. */
  encipher(lr: Uint32Array): void {
    const p = this.p;
    // lr holds 2 words and p P_WORDS = 18: every index below is in range.
    let l = lr[0]!;
    let r = lr[1]!;
    for (let i = 0; i < 16; i += 2) {
      l = (l ^ p[i]!) >>> 0;
      r = (r ^ this.f(l)) >>> 0;
      r = (r ^ p[i + 1]!) >>> 0;
      l = (l ^ this.f(r)) >>> 0;
    }
    lr[0] = (r ^ p[17]!) >>> 0;
    lr[1] = (l ^ p[16]!) >>> 0;
  }

  /** Blowfish key schedule, with bcrypt's salt mixing when salt is given. */
  expand(key: Uint8Array, salt: Uint8Array | null): void {
    const pos = { key: 0, salt: 0 };
    // i < P_WORDS = this.p.length.
    for (let i = 0; i < P_WORDS; i++) this.p[i] = (this.p[i]! ^ streamWord(key, pos, 'key')) >>> 0;
    const lr = this.lr;
    lr[0] = 0;
    lr[1] = 0;
    const fill = (arr: Uint32Array): void => {
      // lr holds 2 words; arr (P or S) has an even length, so i + 1 < arr.length.
      for (let i = 0; i < arr.length; i += 2) {
        if (salt !== null) {
          lr[0] = (lr[0]! ^ streamWord(salt, pos, 'salt')) >>> 0;
          lr[1] = (lr[1]! ^ streamWord(salt, pos, 'salt')) >>> 0;
        }
        this.encipher(lr);
        arr[i] = lr[0]!;
        arr[i + 1] = lr[1]!;
      }
    };
    fill(this.p);
    fill(this.s);
  }
}

function streamWord(data: Uint8Array, pos: { key: number; salt: number }, which: 'key' | 'salt'): number {
  let w = 0;
  let j = pos[which];
  // j stays below data.length (never 0: the key holds at least its NUL, the salt 16 bytes).
  for (let i = 0; i < 4; i++) {
    w = ((w << 8) | data[j]!) >>> 0;
    j = (j + 1) % data.length;
  }
  pos[which] = j;
  return w;
}

const ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function b64Encode(bytes: Uint8Array): string {
  let out = '';
  // i < bytes.length; every ALPHABET index is a 6-bit value, below its 64 characters.
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    out += ALPHABET[b0 >>> 2]! + ALPHABET[((b0 & 3) << 4) | (b1 >>> 4)]!;
    if (i + 1 < bytes.length) out += ALPHABET[((b1 & 15) << 2) | (b2 >>> 6)]!;
    if (i + 2 < bytes.length) out += ALPHABET[b2 & 63]!;
  }
  return out;
}

function b64Decode(s: string, n: number): Uint8Array | null {
  const out = new Uint8Array(n);
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < s.length && o < n; i++) {
    const c = s.charCodeAt(i);
    // c < 128 = DECODE.length.
    const v = c < 128 ? DECODE[c]! : -1;
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  return o === n ? out : null;
}

const HASH_RE = /^\$2([aby])\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;
/** "OrpheanBeholderScryDoubt", the text bcrypt encrypts 64 times. */
const MAGIC = new Uint32Array([0x4f727068, 0x65616e42, 0x65686f6c, 0x64657253, 0x63727944, 0x6f756274]);

/** True when `hash` looks like a bcrypt hash this module can check. */
export function isBcryptHash(hash: string): boolean {
  const m = HASH_RE.exec(hash);
  return m !== null && Number(m[2]) >= 4 && Number(m[2]) <= 31;
}

/** The bcrypt hash of `password` with the cost and salt of `settings` ("$2b$10$<22 salt chars>..."). */
export function bcryptHash(password: string, settings: string): string {
  const m = HASH_RE.exec(settings.length === 29 ? `${settings}${'.'.repeat(31)}` : settings);
  if (m === null) throw new Error('invalid bcrypt settings');
  const cost = Number(m[2]);
  if (cost < 4 || cost > 31) throw new Error('invalid bcrypt cost');
  // Group 3 is not optional: a match always has it.
  const salt = b64Decode(m[3]!, 16);
  if (salt === null) throw new Error('invalid bcrypt salt');
  const pw = Buffer.from(password, 'utf8');
  // The key is the password with its terminating NUL, at most 72 bytes.
  const key = new Uint8Array(Math.min(pw.length + 1, 72));
  key.set(pw.subarray(0, key.length));
  const bf = new Blowfish();
  bf.expand(key, salt);
  const rounds = 2 ** cost;
  for (let i = 0; i < rounds; i++) {
    bf.expand(key, null);
    bf.expand(salt, null);
  }
  const ctext = MAGIC.slice();
  const lr = new Uint32Array(2);
  // ctext holds MAGIC's 6 words and lr 2: j + 1 < 6 below, and i < 6 in the loop after.
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 6; j += 2) {
      lr[0] = ctext[j]!;
      lr[1] = ctext[j + 1]!;
      bf.encipher(lr);
      ctext[j] = lr[0]!;
      ctext[j + 1] = lr[1]!;
    }
  }
  const out = new Uint8Array(24);
  for (let i = 0; i < 6; i++) {
    out[4 * i] = ctext[i]! >>> 24;
    out[4 * i + 1] = (ctext[i]! >>> 16) & 0xff;
    out[4 * i + 2] = (ctext[i]! >>> 8) & 0xff;
    out[4 * i + 3] = ctext[i]! & 0xff;
  }
  // The salt is re-encoded from its 16 bytes, so non-canonical trailing bits normalise as other implementations do.
  return `$2${m[1]}$${m[2]}$${b64Encode(salt)}${b64Encode(out.subarray(0, 23))}`;
}

/** Checks a password against a bcrypt hash in constant time for equal-length hashes. */
export function bcryptVerify(password: string, hash: string): boolean {
  if (!isBcryptHash(hash)) return false;
  const got = Buffer.from(bcryptHash(password, hash));
  const want = Buffer.from(hash);
  return got.length === want.length && timingSafeEqual(got, want);
}
