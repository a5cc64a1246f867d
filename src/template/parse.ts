// Part of template (see template.ts): the parse tree of Go's text/template and
// the parser that builds it, with Go's error messages.
import { goQuote, goUnquote, UnquoteError } from '../gofmt/quote.js';
import { parseGoFloat, parseGoInt } from '../gofmt/float.js';
import { TemplateError } from './errors.js';
import { Lexer, Tok, type Token } from './lexer.js';


export interface TextNode {
  readonly kind: 'text';
  readonly pos: number;
  readonly text: string;
}
export interface ActionNode {
  readonly kind: 'action';
  readonly pos: number;
  readonly pipe: PipeNode;
}
export interface BranchNode {
  readonly kind: 'if' | 'range' | 'with';
  readonly pos: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | null;
}
export interface TemplateNode {
  readonly kind: 'template';
  readonly pos: number;
  readonly name: string;
  readonly pipe: PipeNode | null;
}
export interface LoopControlNode {
  readonly kind: 'break' | 'continue';
  readonly pos: number;
}
export interface ListNode {
  readonly kind: 'list';
  readonly pos: number;
  readonly nodes: Node[];
}
export interface PipeNode {
  readonly kind: 'pipe';
  readonly pos: number;
  isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}
export interface CommandNode {
  readonly kind: 'command';
  readonly pos: number;
  readonly args: ArgNode[];
}
export interface FieldNode {
  readonly kind: 'field';
  readonly pos: number;
  readonly ident: readonly string[];
}
export interface VariableNode {
  readonly kind: 'variable';
  readonly pos: number;
  readonly ident: readonly string[];
}
export interface ChainNode {
  readonly kind: 'chain';
  readonly pos: number;
  readonly node: ArgNode;
  readonly fields: string[];
}
export interface IdentifierNode {
  readonly kind: 'identifier';
  readonly pos: number;
  readonly ident: string;
}
export interface DotNode {
  readonly kind: 'dot';
  readonly pos: number;
}
export interface NilNode {
  readonly kind: 'nil';
  readonly pos: number;
}
export interface BoolNode {
  readonly kind: 'bool';
  readonly pos: number;
  readonly value: boolean;
}
export interface StringNode {
  readonly kind: 'string';
  readonly pos: number;
  readonly quoted: string;
  readonly text: string;
}
/** A number literal stored under every Go type that can hold it, as Go's NumberNode. */
export interface NumberNode {
  readonly kind: 'number';
  readonly pos: number;
  readonly text: string;
  readonly isInt: boolean;
  readonly isUint: boolean;
  readonly isFloat: boolean;
  readonly isComplex: boolean;
  readonly int: number;
  readonly float: number;
  readonly re: number;
  readonly im: number;
}

export type ArgNode =
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | StringNode
  | NumberNode
  | PipeNode;
export type Node = TextNode | ActionNode | BranchNode | TemplateNode | LoopControlNode | ListNode;
type ControlEnd = { readonly kind: 'end' | 'else'; readonly pos: number };

/** One parsed template: its name and body. `text` is the source the positions index. */
export interface Tree {
  readonly name: string;
  readonly parseName: string;
  readonly root: ListNode;
  readonly text: string;
}

/** Go's parser bound on nested parentheses; lower than Go's 10000 so the JS stack holds it. */
const MAX_STACK_DEPTH = 1000;
/** Bound on nested if/range/with/define blocks, for the same reason (Go has none). */
const MAX_BLOCK_DEPTH = 1000;
const MAX_PIPELINE_CMDS = 100000;

/** Go's Node.String(): the source form of a node, used in error contexts. */
export function nodeString(n: Node | ArgNode | CommandNode | ControlEnd): string {
  switch (n.kind) {
    case 'text':
      return n.text;
    case 'action':
      return `{{${nodeString(n.pipe)}}}`;
    case 'if':
    case 'range':
    case 'with':
      return `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}${n.elseList === null ? '' : `{{else}}${nodeString(n.elseList)}`}{{end}}`;
    case 'template':
      return `{{template ${goQuote(n.name)}${n.pipe === null ? '' : ' ' + nodeString(n.pipe)}}}`;
    case 'break':
      return '{{break}}';
    case 'continue':
      return '{{continue}}';
    case 'end':
      return '{{end}}';
    case 'else':
      return '{{else}}';
    case 'list':
      return n.nodes.map(nodeString).join('');
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(', ') + (n.isAssign ? ' = ' : ' := ');
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case 'command':
      return n.args.map((a) => (a.kind === 'pipe' ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case 'field':
      return n.ident.map((id) => '.' + id).join('');
    case 'variable':
      return n.ident.join('.');
    case 'chain':
      return (n.node.kind === 'pipe' ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.fields.map((f) => '.' + f).join('');
    case 'identifier':
      return n.ident;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'string':
      return n.quoted;
    case 'number':
      return n.text;
  }
}

/** Go's item.String() in "unexpected ..." messages. */
function tokenString(t: Token): string {
  if (t.typ === Tok.EOF) return 'EOF';
  if (t.typ === Tok.Error) return t.val;
  if (t.typ > Tok.Keyword) return `<${t.val}>`;
  const cps = Array.from(t.val);
  if (cps.length > 10) return goQuote(cps.slice(0, 10).join('')) + '...';
  return goQuote(t.val);
}

/** Whether a tree holds nothing but space (a define may then be redefined). */
export function isEmptyTree(n: Node): boolean {
  switch (n.kind) {
    case 'list':
      return n.nodes.every(isEmptyTree);
    case 'text':
      return n.text.trim() === '';
    default:
      return false;
  }
}

/**
 * Parses `text` as the template `name`, adding it and every {{define}}/{{block}}
 * to `trees`. `hasFunc` says which function names exist (Go checks them at
 * parse time). Throws TemplateError.
 */
export function parseTemplate(name: string, text: string, hasFunc: (name: string) => boolean, trees: Map<string, Tree>): void {
  const lex = new Lexer(text, !hasFunc('break'), !hasFunc('continue'));
  const p = new Parser(name, name, text, lex, hasFunc, trees);
  try {
    p.parseTop();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new TemplateError(`template: ${name}:${p.line()}: template nests too deeply`, 'parse');
    }
    throw e;
  }
}

class Parser {
  private readonly tokens: Token[] = [];
  private peekCount = 0;
  private vars: string[] = ['$'];
  private actionLine = 0;
  private rangeDepth = 0;
  private stackDepth = 0;
  private blockDepth = 0;

  constructor(
    private treeName: string,
    private readonly parseName: string,
    private readonly text: string,
    private readonly lex: Lexer,
    private readonly hasFunc: (name: string) => boolean,
    private readonly trees: Map<string, Tree>,
    shared?: Parser,
  ) {
    if (shared !== undefined) {
      // A nested definition continues reading the same token stream.
      this.tokens = shared.tokens;
    }
  }

  line(): number {
    return this.tokens[0]?.line ?? 1;
  }

  private next(): Token {
    if (this.peekCount > 0) this.peekCount--;
    else this.tokens[0] = this.lex.nextItem();
    return this.tokens[this.peekCount]!;
  }

  private backup(): void {
    this.peekCount++;
  }

  private backup2(t1: Token): void {
    this.tokens[1] = t1;
    this.peekCount = 2;
  }

  private backup3(t2: Token, t1: Token): void {
    this.tokens[1] = t1;
    this.tokens[2] = t2;
    this.peekCount = 3;
  }

  private peek(): Token {
    if (this.peekCount > 0) return this.tokens[this.peekCount - 1]!;
    this.peekCount = 1;
    this.tokens[0] = this.lex.nextItem();
    return this.tokens[0];
  }

  private nextNonSpace(): Token {
    for (;;) {
      const t = this.next();
      if (t.typ !== Tok.Space) return t;
    }
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private errorf(msg: string): never {
    throw new TemplateError(`template: ${this.parseName}:${this.line()}: ${msg}`, 'parse');
  }

  private expect(typ: Tok, context: string): Token {
    const t = this.nextNonSpace();
    if (t.typ !== typ) this.unexpected(t, context);
    return t;
  }

  private unexpected(t: Token, context: string): never {
    if (t.typ === Tok.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.parseName}:${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${tokenString(t)}${extra}`);
    }
    this.errorf(`unexpected ${tokenString(t)} in ${context}`);
  }

  /** Go's Tree.add: a name may be defined twice only when one definition is empty. */
  private add(root: ListNode): void {
    const old = this.trees.get(this.treeName);
    if (old === undefined || isEmptyTree(old.root)) {
      this.trees.set(this.treeName, { name: this.treeName, parseName: this.parseName, root, text: this.text });
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${goQuote(this.treeName)}`);
  }

  private nested(name: string): Parser {
    const p = new Parser(name, this.parseName, this.text, this.lex, this.hasFunc, this.trees, this);
    p.peekCount = this.peekCount;
    p.blockDepth = this.blockDepth;
    return p;
  }

  /** Hands the lookahead back after a nested parser read on. */
  private resume(p: Parser): void {
    this.peekCount = p.peekCount;
  }

  parseTop(): void {
    const root: ListNode = { kind: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== Tok.EOF) {
      if (this.peek().typ === Tok.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === Tok.Define) {
          const d = this.nested('definition');
          d.parseDefinition();
          this.resume(d);
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (isControlEnd(n)) this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.add(root);
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.nextNonSpace();
    if (nameTok.typ !== Tok.String && nameTok.typ !== Tok.RawString) this.unexpected(nameTok, context);
    this.treeName = this.unquote(nameTok.val);
    this.expect(Tok.RightDelim, context);
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add(list);
  }

  private unquote(s: string): string {
    try {
      return goUnquote(s);
    } catch (e) {
      if (e instanceof UnquoteError) this.errorf('invalid syntax');
      throw e;
    }
  }

  private itemList(): [ListNode, ControlEnd] {
    if (++this.blockDepth > MAX_BLOCK_DEPTH) this.errorf('max expression depth exceeded');
    const list: ListNode = { kind: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== Tok.EOF) {
      const n = this.textOrAction();
      if (isControlEnd(n)) {
        this.blockDepth--;
        return [list, n];
      }
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | ControlEnd {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case Tok.Text:
        return { kind: 'text', pos: t.pos, text: t.val };
      case Tok.LeftDelim: {
        this.actionLine = t.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      default:
        this.unexpected(t, 'input');
    }
  }

  private action(): Node | ControlEnd {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case Tok.Block:
        return this.blockControl();
      case Tok.Break:
      case Tok.Continue: {
        const word = t.typ === Tok.Break ? 'break' : 'continue';
        const n = this.nextNonSpace();
        if (n.typ !== Tok.RightDelim) this.unexpected(n, `{{${word}}}`);
        if (this.rangeDepth === 0) this.errorf(`{{${word}}} outside {{range}}`);
        return { kind: word, pos: t.pos };
      }
      case Tok.Else:
        return this.elseControl();
      case Tok.End:
        return { kind: 'end', pos: this.expect(Tok.RightDelim, 'end').pos };
      case Tok.If:
        return this.branch('if');
      case Tok.Range:
        return this.branch('range');
      case Tok.Template:
        return this.templateControl();
      case Tok.With:
        return this.branch('with');
    }
    this.backup();
    const pos = this.peek().pos;
    return { kind: 'action', pos, pipe: this.pipeline('command', Tok.RightDelim) };
  }

  private elseControl(): ControlEnd {
    const p = this.peekNonSpace();
    // `else if` / `else with` leave the keyword for the enclosing branch to parse.
    if (p.typ === Tok.If || p.typ === Tok.With) return { kind: 'else', pos: p.pos };
    return { kind: 'else', pos: this.expect(Tok.RightDelim, 'else').pos };
  }

  private branch(context: 'if' | 'range' | 'with'): BranchNode {
    const mark = this.vars.length;
    const pipe = this.pipeline(context, Tok.RightDelim);
    if (context === 'range') this.rangeDepth++;
    let [list, next] = this.itemList();
    if (context === 'range') this.rangeDepth--;
    let elseList: ListNode | null = null;
    if (next.kind === 'else') {
      if ((context === 'if' && this.peek().typ === Tok.If) || (context === 'with' && this.peek().typ === Tok.With)) {
        this.next();
        elseList = { kind: 'list', pos: next.pos, nodes: [this.branch(context)] };
      } else {
        [elseList, next] = this.itemList();
        if (next.kind !== 'end') this.errorf(`expected end; found ${nodeString(next)}`);
      }
    }
    this.vars.length = mark;
    list = list as ListNode;
    return { kind: context, pos: pipe.pos, pipe, list, elseList };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, Tok.RightDelim);
    const b = this.nested(name);
    const [list, end] = b.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    b.add(list);
    this.resume(b);
    return { kind: 'template', pos: t.pos, name, pipe };
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== Tok.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, Tok.RightDelim);
    }
    return { kind: 'template', pos: t.pos, name, pipe };
  }

  private templateName(t: Token, context: string): string {
    if (t.typ === Tok.String || t.typ === Tok.RawString) return this.unquote(t.val);
    this.unexpected(t, context);
  }

  private pipeline(context: string, end: Tok): PipeNode {
    const start = this.peekNonSpace();
    const pipe: PipeNode = { kind: 'pipe', pos: start.pos, isAssign: false, decl: [], cmds: [] };
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== Tok.Variable) break;
      this.next();
      const after = this.peek();
      const next = this.peekNonSpace();
      if (next.typ === Tok.Assign || next.typ === Tok.Declare) {
        pipe.isAssign = next.typ === Tok.Assign;
        this.nextNonSpace();
        pipe.decl.push(variable(v));
        this.vars.push(v.val);
      } else if (next.typ === Tok.Char && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(variable(v));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().typ;
          if (t === Tok.Variable || t === Tok.RightDelim || t === Tok.RightParen) continue decls;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      } else if (after.typ === Tok.Space) {
        this.backup3(v, after);
      } else {
        this.backup2(v);
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.typ) {
        case Tok.Bool:
        case Tok.CharConstant:
        case Tok.Complex:
        case Tok.Dot:
        case Tok.Field:
        case Tok.Identifier:
        case Tok.Number:
        case Tok.Nil:
        case Tok.RawString:
        case Tok.String:
        case Tok.Variable:
        case Tok.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          if (pipe.cmds.length > MAX_PIPELINE_CMDS) this.errorf('pipeline too long');
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const k = pipe.cmds[i]!.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  private command(): CommandNode {
    const cmd: CommandNode = { kind: 'command', pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === Tok.Space) continue;
      if (t.typ === Tok.RightDelim || t.typ === Tok.RightParen) this.backup();
      else if (t.typ !== Tok.Pipe) this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    const node = this.term();
    if (node === null) return null;
    if (this.peek().typ !== Tok.Field) return node;
    const chain: ChainNode = { kind: 'chain', pos: this.peek().pos, node, fields: [] };
    while (this.peek().typ === Tok.Field) chain.fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field':
        return { kind: 'field', pos: chain.pos, ident: [...node.ident, ...chain.fields] };
      case 'variable':
        return { kind: 'variable', pos: chain.pos, ident: [...node.ident, ...chain.fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.errorf(`unexpected . after term ${goQuote(nodeString(node))}`);
      // falls through: errorf never returns
      default:
        return chain;
    }
  }

  private term(): ArgNode | null {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case Tok.Identifier:
        if (!this.hasFunc(t.val)) this.errorf(`function ${goQuote(t.val)} not defined`);
        return { kind: 'identifier', pos: t.pos, ident: t.val };
      case Tok.Dot:
        return { kind: 'dot', pos: t.pos };
      case Tok.Nil:
        return { kind: 'nil', pos: t.pos };
      case Tok.Variable:
        return this.useVar(t);
      case Tok.Field:
        return { kind: 'field', pos: t.pos, ident: t.val.slice(1).split('.') };
      case Tok.Bool:
        return { kind: 'bool', pos: t.pos, value: t.val === 'true' };
      case Tok.CharConstant:
      case Tok.Complex:
      case Tok.Number:
        return this.number(t);
      case Tok.LeftParen: {
        if (this.stackDepth >= MAX_STACK_DEPTH) this.errorf('max expression depth exceeded');
        this.stackDepth++;
        try {
          return this.pipeline('parenthesized pipeline', Tok.RightParen);
        } finally {
          this.stackDepth--;
        }
      }
      case Tok.String:
      case Tok.RawString:
        return { kind: 'string', pos: t.pos, quoted: t.val, text: this.unquote(t.val) };
    }
    this.backup();
    return null;
  }

  private useVar(t: Token): VariableNode {
    const v = variable(t);
    if (!this.vars.includes(v.ident[0]!)) this.errorf(`undefined variable ${goQuote(v.ident[0]!)}`);
    return v;
  }

  private number(t: Token): NumberNode {
    const r = parseNumber(t.val, t.typ);
    if (typeof r === 'string') this.errorf(r);
    return { kind: 'number', pos: t.pos, ...r };
  }
}

function isControlEnd(n: Node | ControlEnd): n is ControlEnd {
  return n.kind === 'end' || n.kind === 'else';
}

function variable(t: Token): VariableNode {
  return { kind: 'variable', pos: t.pos, ident: t.val.split('.') };
}

type NumberFields = Omit<NumberNode, 'kind' | 'pos'>;

const MAX_INT64 = 9223372036854775807;

/** Go's newNumber: the value under each type that holds it exactly, or Go's error text. */
function parseNumber(text: string, typ: Tok): NumberFields | string {
  const base = { text, isInt: false, isUint: false, isFloat: false, isComplex: false, int: 0, float: 0, re: 0, im: 0 };
  if (typ === Tok.CharConstant) {
    let ch: string;
    try {
      ch = goUnquote(text);
    } catch {
      return text.length > 2 && text[1] !== '\\' ? `malformed character constant: ${text}` : 'invalid syntax';
    }
    const cp = ch.codePointAt(0) ?? 0;
    return { ...base, isInt: true, isUint: true, isFloat: true, int: cp, float: cp };
  }
  if (typ === Tok.Complex) {
    const m = /^([+-]?[^+-]+(?:[eE][+-]?\d+)?)([+-].*)i$/.exec(text);
    let re = NaN;
    let im = NaN;
    try {
      if (m !== null) {
        re = parseGoFloat(m[1]!);
        im = parseGoFloat(m[2]!);
      }
    } catch {
      // Falls through to the error below.
    }
    if (Number.isNaN(re) || Number.isNaN(im)) return `expected integer`;
    return simplifyComplex({ ...base, isComplex: true, re, im });
  }
  if (text.endsWith('i')) {
    try {
      const f = parseGoFloat(text.slice(0, -1));
      return simplifyComplex({ ...base, isComplex: true, re: 0, im: f });
    } catch {
      // Not an imaginary literal; the checks below report it.
    }
  }
  const n = { ...base };
  const i = parseGoInt(text);
  if (i !== null) {
    n.isInt = true;
    n.int = i;
    n.isUint = i >= 0;
    n.isFloat = true;
    n.float = i;
  } else if (/^\+?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]*|0[bB][01_]+|[1-9][0-9_]*)$/.test(text) && !/[.eEpP]/.test(text.replace(/^0[xX]/, ''))) {
    // An unsigned value above int64: only its float (and uint) forms exist.
    const u = Number(BigInt(text.replace(/^\+/, '').replaceAll('_', '').replace(/^0([0-7])/, '0o$1')));
    if (u > 18446744073709551615) return `integer overflow: ${goQuote(text)}`;
    n.isUint = true;
    n.isFloat = true;
    n.float = u;
  } else {
    let f: number;
    try {
      f = parseGoFloat(text);
    } catch {
      return `illegal number syntax: ${goQuote(text)}`;
    }
    if (!/[.eEpP]/.test(text)) return `integer overflow: ${goQuote(text)}`;
    n.isFloat = true;
    n.float = f;
    if (Number.isInteger(f) && Math.abs(f) <= MAX_INT64) {
      n.isInt = true;
      n.int = f;
    }
    if (Number.isInteger(f) && f >= 0 && f <= 18446744073709551615) n.isUint = true;
  }
  return n;
}

function simplifyComplex(n: NumberFields): NumberFields {
  if (n.im !== 0) return n;
  const isInt = Number.isInteger(n.re) && Math.abs(n.re) <= MAX_INT64;
  return { ...n, isFloat: true, float: n.re, isInt, int: isInt ? n.re : 0, isUint: isInt && n.re >= 0 };
}
