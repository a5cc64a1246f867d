// JUnit XML results of `tsprom test --junit=<file> rules ...`, in the shape
// promtool writes: one <testsuite> per test file, one <testcase> per test group.

export interface JUnitCase {
  readonly name: string;
  readonly failures: string[];
  error: string;
}

export class JUnitSuite {
  readonly cases: JUnitCase[] = [];
  failureCount = 0;
  errorCount = 0;
  timestamp = '';
  constructor(readonly name: string) {}

  /** Starts the case the next failures belong to. */
  addCase(name: string): void {
    this.cases.push({ name, failures: [], error: '' });
  }

  fail(message: string): void {
    this.failureCount++;
    this.lastCase().failures.push(message);
  }

  /** The file could not be tested at all. */
  abort(message: string): void {
    this.errorCount++;
    this.lastCase().error = message;
  }

  private lastCase(): JUnitCase {
    if (this.cases.length === 0) this.addCase('unknown');
    return this.cases[this.cases.length - 1]!;
  }
}

/** Go's xml.EscapeText: quotes and whitespace controls become character references. */
function escapeXml(s: string): string {
  return s.replace(/[&<>"'\t\n\r]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&#34;';
      case "'":
        return '&#39;';
      case '\t':
        return '&#x9;';
      case '\n':
        return '&#xA;';
      default:
        return '&#xD;';
    }
  });
}

/** The document, on one line as Go's encoder writes it. */
export function junitXml(suites: readonly JUnitSuite[]): string {
  let out = '<testsuites>';
  for (const s of suites) {
    out +=
      `<testsuite name="${escapeXml(s.name)}" tests="${s.cases.length}" failures="${s.failureCount}" errors="${s.errorCount}"` +
      ` skipped="0" timestamp="${escapeXml(s.timestamp)}">`;
    for (const c of s.cases) {
      out += `<testcase name="${escapeXml(c.name)}">`;
      for (const f of c.failures) out += `<failure>${escapeXml(f)}</failure>`;
      if (c.error !== '') out += `<error>${escapeXml(c.error)}</error>`;
      out += '</testcase>';
    }
    out += '</testsuite>';
  }
  return `${out}</testsuites>`;
}

/** Local time as Go's "2006-01-02T15:04:05". */
export function junitTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
