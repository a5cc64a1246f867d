// Part of template (see template.ts): the executor of Go's text/template, with
// Go's evaluation rules and error messages, bounded in output, work and
// template recursion so that no template can hang or exhaust the server.
import { compareStrings } from '../gofmt/order.js';
import { goQuote, utf8Length } from '../gofmt/quote.js';
import { TemplateError } from './errors.js';
import { formatValue, printable } from './fmt.js';
import { nodeString, type ArgNode, type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type Node, type NumberNode, type PipeNode, type Tree, type VariableNode } from './parse.js';
import {
  assignable,
  boolV,
  canBeNil,
  floatV,
  GoError,
  indirect,
  intV,
  isTrue,
  stringV,
  T_COMPLEX128,
  T_REFLECT,
  Value,
  zeroOf,
  type CallContext,
  type GoFunc,
  type GoType,
  type GoVal,
} from './values.js';


/** What `missingkey=` says a missing map key gives: Go's default (no value), the zero value, or an error. */
export type MissingKey = 'default' | 'zero' | 'error';

/**
 * Go's maxExecDepth is 100000; JS's stack holds fewer nested walks, so
 * templates may call templates 1000 deep (Go's own limit on wasm).
 */
export const MAX_EXEC_DEPTH = 1000;
/** Output bound per execution (UTF-16 units): an annotation larger than this is a bug, not a message. */
export const MAX_OUTPUT_CHARS = 1 << 20;
/** Work bound per execution (walked nodes and commands): ~0.1 s, far above any real template. */
export const MAX_STEPS = 1_000_000;

export interface ExecEnv {
  readonly trees: ReadonlyMap<string, Tree>;
  readonly funcs: ReadonlyMap<string, GoFunc>;
  /** Names of Go's builtins among funcs (and/or short-circuit). */
  readonly builtins: ReadonlySet<string>;
  readonly missingKey: MissingKey;
}

const MISSING = Symbol('missing');
type Final = GoVal | typeof MISSING;

/** Unwinds a range iteration ({{break}} / {{continue}}). */
class LoopSignal {
  constructor(readonly brk: boolean) {}
}
const BREAK = new LoopSignal(true);
const CONTINUE = new LoopSignal(false);

interface Variable {
  readonly name: string;
  value: GoVal;
}

/** Executes the template `name` of env with `dot`; returns the output. Throws TemplateError. */
export function execute(env: ExecEnv, name: string, dot: GoVal, ctx: CallContext): string {
  const tree = env.trees.get(name);
  const s = new State(env, ctx, name, tree ?? null, dot);
  if (tree === undefined) throw new TemplateError(`template: ${name}: ${goQuote(name)} is an incomplete or empty template`, 'exec');
  try {
    s.walk(dot, tree.root);
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      // The JS stack ran out before our own bounds did (deeply nested data or blocks).
      throw new TemplateError(`template: ${name}: executing ${goQuote(name)}: nesting too deep`, 'exec');
    }
    throw e;
  }
  return s.output();
}

class State {
  private readonly parts: string[] = [];
  private outChars = 0;
  private steps = 0;
  private depth = 0;
  private vars: Variable[];
  private node: Node | ArgNode | CommandNode | null = null;

  constructor(
    private readonly env: ExecEnv,
    private readonly ctx: CallContext,
    private tmplName: string,
    private tree: Tree | null,
    dot: GoVal,
  ) {
    this.vars = [{ name: '$', value: dot }];
  }

  output(): string {
    return this.parts.join('');
  }

  private at(n: Node | ArgNode | CommandNode): void {
    this.node = n;
  }

  errorf(msg: string): never {
    const name = this.tmplName;
    if (this.node === null || this.tree === null) throw new TemplateError(`template: ${name}: ${msg}`, 'exec');
    const text = this.tree.text.slice(0, this.node.pos);
    const nl = text.lastIndexOf('\n');
    const line = 1 + countChar(text, '\n');
    const col = utf8Length(nl < 0 ? text : text.slice(nl + 1));
    const location = `${this.tree.parseName}:${line}:${col}`;
    throw new TemplateError(`template: ${location}: executing ${goQuote(name)} at <${nodeString(this.node)}>: ${msg}`, 'exec');
  }

  private step(): void {
    if (++this.steps > MAX_STEPS) this.errorf(`execution exceeds ${MAX_STEPS} steps`);
  }

  private write(s: string): void {
    this.outChars += s.length;
    if (this.outChars > MAX_OUTPUT_CHARS) this.errorf(`output exceeds ${MAX_OUTPUT_CHARS} characters`);
    this.parts.push(s);
  }

  private push(name: string, value: GoVal): void {
    this.vars.push({ name, value });
  }

  private setVar(name: string, value: GoVal): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i]!;
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: GoVal): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  private varValue(name: string): GoVal {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i]!;
      if (v.name === name) return v.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: GoVal, node: Node): void {
    this.step();
    this.at(node);
    switch (node.kind) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'if':
      case 'with':
        return this.walkIfOrWith(dot, node);
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node.name, node.pipe, node);
      case 'text':
        this.write(node.text);
        return;
    }
  }

  private walkIfOrWith(dot: GoVal, node: BranchNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      const { truth, ok } = isTrue(val);
      if (!ok) this.errorf(`if/with can't use ${formatValue(val)}`);
      if (truth) this.walk(node.kind === 'with' ? val : dot, node.list);
      else if (node.elseList !== null) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: GoVal, r: BranchNode): void {
    this.at(r);
    const mark0 = this.vars.length;
    try {
      const val = indirect(this.evalPipeline(dot, r.pipe)).v;
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: GoVal, elem: GoVal): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      try {
        if (val !== null) {
          switch (val.type.kind) {
            case 'int':
            case 'uint': {
              if (decl.length > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
              const n = val.v as number;
              for (let i = 0; i < n; i++) {
                ran = true;
                one(null, new Value(val.type, i));
              }
              break;
            }
            case 'slice': {
              const elems = val.v as Value[];
              for (let i = 0; i < elems.length; i++) {
                ran = true;
                one(intV(i), elems[i] ?? null);
              }
              break;
            }
            case 'map': {
              const m = val.v as Map<string, GoVal>;
              for (const k of sortedKeys(m)) {
                ran = true;
                one(stringV(k), m.get(k) ?? null);
              }
              break;
            }
            default:
              this.errorf(`range can't iterate over ${formatValue(val)}`);
          }
        }
      } catch (e) {
        if (e !== BREAK) throw e;
        return;
      }
      if (!ran && r.elseList !== null) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = mark0;
    }
  }

  private walkTemplate(dot: GoVal, name: string, pipe: PipeNode | null, node: Node): void {
    this.at(node);
    const tree = this.env.trees.get(name);
    if (tree === undefined) this.errorf(`template ${goQuote(name)} not defined`);
    if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = this.evalPipeline(dot, pipe);
    const saved = { vars: this.vars, tree: this.tree, name: this.tmplName };
    this.vars = [{ name: '$', value: newDot }];
    this.tree = tree;
    this.tmplName = name;
    this.depth++;
    try {
      this.walk(newDot, tree.root);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.tree = saved.tree;
      this.tmplName = saved.name;
    }
  }

  private evalPipeline(dot: GoVal, pipe: PipeNode | null): GoVal {
    if (pipe === null) return null;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const v = value === MISSING ? null : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.ident[0]!, v);
      else this.push(d.ident[0]!, v);
    }
    return v;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: GoVal, cmd: CommandNode, final: Final): GoVal {
    this.step();
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
        return boolV(first.value);
      case 'dot':
        return dot;
      case 'nil':
        this.errorf('nil is not a command');
      // falls through: errorf never returns
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return stringV(first.text);
    }
  }

  private idealConstant(c: NumberNode): GoVal {
    this.at(c);
    if (c.isComplex) return new Value(T_COMPLEX128, [c.re, c.im]);
    const hexInt = c.text.length > 2 && c.text[0] === '0' && (c.text[1] === 'x' || c.text[1] === 'X') && !/[pP]/.test(c.text);
    if (c.isFloat && !hexInt && c.text[0] !== "'" && /[.eEpP]/.test(c.text)) return floatV(c.float);
    if (c.isInt) return intV(c.int);
    if (c.isUint) this.errorf(`${c.text} overflows int`);
    return null;
  }

  private evalFieldNode(dot: GoVal, field: FieldNode, args: readonly ArgNode[] | null, final: Final): GoVal {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoVal, chain: ChainNode, args: readonly ArgNode[] | null, final: Final): GoVal {
    this.at(chain);
    if (chain.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.fields, args, final);
  }

  private evalVariableNode(dot: GoVal, v: VariableNode, args: readonly ArgNode[] | null, final: Final): GoVal {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(
    dot: GoVal,
    receiver: GoVal,
    node: ArgNode,
    ident: readonly string[],
    args: readonly ArgNode[] | null,
    final: Final,
  ): GoVal {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalFunction(dot: GoVal, node: IdentifierNode, cmd: CommandNode | IdentifierNode, args: readonly ArgNode[] | null, final: Final): GoVal {
    this.at(node);
    const name = node.ident;
    const fn = this.env.funcs.get(name);
    if (fn === undefined) this.errorf(`${goQuote(name)} is not a defined function`);
    return this.evalCall(dot, fn, this.env.builtins.has(name), cmd, name, args, final);
  }

  private evalField(dot: GoVal, fieldName: string, node: ArgNode, args: readonly ArgNode[] | null, final: Final, receiver: GoVal): GoVal {
    if (receiver === null) {
      if (this.env.missingKey === 'error') this.errorf(`nil data; no entry for key ${goQuote(fieldName)}`);
      return null;
    }
    const typName = receiver.type.name;
    const { v: rcv, isNil } = indirect(receiver);
    const r = rcv!;
    const method = r.type.methods?.get(fieldName) ?? receiver.type.methods?.get(fieldName);
    if (method !== undefined) {
      const bound: GoFunc = { params: method.params, variadic: method.variadic, call: (a, ctx) => method.call([r, ...a], ctx) };
      return this.evalCall(dot, bound, false, node, fieldName, args, final);
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    switch (r.type.kind) {
      case 'struct': {
        const i = r.type.fields?.findIndex((f) => f.name === fieldName) ?? -1;
        if (i >= 0) {
          if (!/^\p{Lu}/u.test(fieldName)) this.errorf(`${fieldName} is an unexported field of struct type ${typName}`);
          if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
          return (r.v as GoVal[])[i] ?? null;
        }
        break;
      }
      case 'map': {
        if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
        const result = (r.v as Map<string, GoVal>).get(fieldName);
        if (result !== undefined) return result;
        if (this.env.missingKey === 'zero') return zeroOf(r.type.elem!);
        if (this.env.missingKey === 'error') this.errorf(`map has no entry for key ${goQuote(fieldName)}`);
        return null;
      }
      case 'ptr': {
        const et = r.type.elem!;
        if (et.kind === 'struct' && !(et.fields ?? []).some((f) => f.name === fieldName)) break;
        if (isNil) this.errorf(`nil pointer evaluating ${typName}.${fieldName}`);
        break;
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typName}`);
  }

  private evalCall(dot: GoVal, fn: GoFunc, isBuiltin: boolean, node: ArgNode | CommandNode, name: string, allArgs: readonly ArgNode[] | null, final: Final): GoVal {
    const args = allArgs === null ? [] : allArgs.slice(1);
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    let numFixed = args.length;
    if (fn.variadic !== null) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }
    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: GoVal = null;
      for (const a of args) {
        v = this.evalArg(dot, T_REFLECT, a);
        if (isTrue(v).truth === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: GoVal[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, args[i]!));
    if (fn.variadic !== null) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i]!));
    if (final !== MISSING) {
      let t: GoType = fn.params[fn.params.length - 1] ?? fn.variadic!;
      if (fn.variadic !== null) t = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.call(argv, this.ctx);
    } catch (e) {
      if (e instanceof GoError) {
        this.at(node);
        this.errorf(`error calling ${name}: ${e.message}`);
      }
      throw e;
    }
  }

  private validateType(value: GoVal, typ: GoType | null): GoVal {
    if (value === null) {
      if (typ === null) return null;
      if (canBeNil(typ)) return zeroOf(typ);
      this.errorf(`invalid value; expected ${typ.name}`);
    }
    if (typ === null || assignable(value.type, typ)) return value;
    if (value.type.kind === 'ptr' && value.type.elem !== undefined && assignable(value.type.elem, typ)) {
      if (value.v === null) this.errorf(`dereference of nil pointer of type ${typ.name}`);
      return value.v as Value;
    }
    this.errorf(`wrong type for value; expected ${typ.name}; got ${value.type.name}`);
  }

  private evalArg(dot: GoVal, typ: GoType | null, n: ArgNode): GoVal {
    this.at(n);
    switch (n.kind) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ !== null && canBeNil(typ)) return zeroOf(typ);
        this.errorf(`cannot assign nil to ${typ?.name ?? '<nil>'}`);
      // falls through: errorf never returns
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    const s = nodeString(n);
    switch (typ?.kind) {
      case 'bool':
        if (n.kind === 'bool') return new Value(typ, n.value);
        this.errorf(`expected bool; found ${s}`);
      // falls through: errorf never returns
      case 'complex':
        if (n.kind === 'number' && n.isComplex) return new Value(typ, [n.re, n.im]);
        this.errorf(`expected complex; found ${s}`);
      // falls through: errorf never returns
      case 'float':
        if (n.kind === 'number' && n.isFloat) return new Value(typ, n.float);
        this.errorf(`expected float; found ${s}`);
      // falls through: errorf never returns
      case 'int':
        if (n.kind === 'number' && n.isInt) return new Value(typ, n.int);
        this.errorf(`expected integer; found ${s}`);
      // falls through: errorf never returns
      case 'uint':
        if (n.kind === 'number' && n.isUint) return new Value(typ, n.int >= 0 ? n.int : n.float);
        this.errorf(`expected unsigned integer; found ${s}`);
      // falls through: errorf never returns
      case 'string':
        if (n.kind === 'string') return new Value(typ, n.text);
        this.errorf(`expected string; found ${s}`);
      // falls through: errorf never returns
      case 'interface':
      case 'reflect':
        return this.evalEmptyInterface(dot, n);
    }
    this.errorf(`can't handle ${s} for arg of type ${typ?.name ?? '<nil>'}`);
  }

  private evalEmptyInterface(dot: GoVal, n: ArgNode): GoVal {
    this.at(n);
    switch (n.kind) {
      case 'bool':
        return boolV(n.value);
      case 'dot':
        return dot;
      case 'field':
        return this.evalFieldNode(dot, n, null, MISSING);
      case 'identifier':
        return this.evalFunction(dot, n, n, null, MISSING);
      case 'nil':
        this.errorf("evalEmptyInterface: nil (can't happen)");
      // falls through: errorf never returns
      case 'number':
        return this.idealConstant(n);
      case 'string':
        return stringV(n.text);
      case 'variable':
        return this.evalVariableNode(dot, n, null, MISSING);
      case 'pipe':
        return this.evalPipeline(dot, n);
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  private printValue(n: Node, v: GoVal): void {
    this.at(n);
    this.write(printable(v));
  }
}

function countChar(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i >= 0; i = s.indexOf(c, i + 1)) n++;
  return n;
}

/** Map keys in Go's order (fmtsort: strings by UTF-8 bytes). */
function sortedKeys(m: ReadonlyMap<string, unknown>): string[] {
  return [...m.keys()].sort(compareStrings);
}
