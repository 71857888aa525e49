// A small interpreter for the subset of Go templates and Sprig functions this chart uses, so the tests can
// render the chart without a helm binary and look at the manifests it produces.
//
// It is a model, not Helm: it follows text/template's rules for whitespace trimming, truthiness, variable
// scope, short-circuit `and`/`or`, nil field access (an error) and missing map keys (nil), and Sprig's rules for
// `required` (fails only on nil or ""), `default`/`empty`, `join`, `quote` and integer arithmetic. Numbers from
// values are float64 as in Helm (printed with Go's %v, so 1000000 prints as 1e+06); Sprig arithmetic yields int64
// (a bigint here). Anything outside the subset throws, so an unsupported construct fails a test instead of
// rendering something Helm would not. `helm template` remains the reference (see the chart README).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

/** A `required` or `fail` in the chart, or a template error Helm would also report. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Value = unknown;
type Operand =
  | { kind: 'dot' }
  | { kind: 'field'; path: string[] }
  | { kind: 'var'; name: string; path: string[] }
  | { kind: 'literal'; value: Value }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };
type Command = Operand[];
interface Pipeline {
  decl?: { names: string[]; assign: boolean };
  cmds: Command[];
}
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if'; branches: { cond: Pipeline; body: Node[] }[]; otherwise: Node[] }
  | { kind: 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'template'; name: string; pipe: Pipeline | undefined };

// ---------------------------------------------------------------------------------------------- lexing

interface RawAction {
  text: string;
  trimLeft: boolean;
  trimRight: boolean;
  comment: boolean;
}

function splitTemplate(src: string, file: string): (string | RawAction)[] {
  const out: (string | RawAction)[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      out.push(src.slice(i));
      break;
    }
    out.push(src.slice(i, open));
    let j = open + 2;
    const trimLeft = src[j] === '-' && /\s/.test(src[j + 1] ?? '');
    if (trimLeft) j += 2;
    while (/\s/.test(src[j] ?? '') && trimLeft) j++;
    if (src.startsWith('/*', j)) {
      const end = src.indexOf('*/', j + 2);
      if (end < 0) throw new TemplateError(`${file}: unclosed comment`);
      let k = end + 2;
      let trimRight = false;
      if (src.startsWith(' -}}', k)) {
        trimRight = true;
        k += 4;
      } else if (src.startsWith('}}', k)) k += 2;
      else throw new TemplateError(`${file}: comment must end with */}} or */ -}}`);
      out.push({ text: '', trimLeft, trimRight, comment: true });
      i = k;
      continue;
    }
    // Find the closing braces outside string literals.
    let k = j;
    let quote: string | undefined;
    for (; k < src.length; k++) {
      const c = src[k];
      if (quote) {
        if (c === '\\' && quote === '"') k++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === '`') quote = c;
      else if (c === '}' && src[k + 1] === '}') break;
    }
    if (k >= src.length) throw new TemplateError(`${file}: unclosed action`);
    let text = src.slice(j, k);
    const trimRight = /\s-$/.test(text);
    if (trimRight) text = text.slice(0, -2);
    out.push({ text: text.trim(), trimLeft, trimRight, comment: false });
    i = k + 2;
  }
  // Apply the trim markers to the neighbouring text.
  for (let n = 0; n < out.length; n++) {
    const a = out[n];
    if (typeof a === 'string' || a === undefined) continue;
    if (a.trimLeft && typeof out[n - 1] === 'string') out[n - 1] = (out[n - 1] as string).replace(/\s+$/, '');
    if (a.trimRight && typeof out[n + 1] === 'string') out[n + 1] = (out[n + 1] as string).replace(/^\s+/, '');
  }
  return out;
}

type Token =
  | { t: 'str'; v: string }
  | { t: 'num'; v: Value }
  | { t: 'ident'; v: string }
  | { t: 'field'; v: string[] }
  | { t: 'var'; v: string; path: string[] }
  | { t: 'dot' }
  | { t: 'punct'; v: '(' | ')' | '|' | ',' | ':=' | '=' };

function tokenize(text: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fieldChain = (): string[] => {
    const path: string[] = [];
    while (text[i] === '.' && /[A-Za-z_]/.test(text[i + 1] ?? '')) {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      path.push(m![1]!);
      i += m![0].length;
    }
    return path;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\') {
          const e = text[i + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : (e ?? '');
          i += 2;
        } else s += text[i++];
      }
      i++;
      tokens.push({ t: 'str', v: s });
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      tokens.push({ t: 'str', v: text.slice(i + 1, end) });
      i = end + 1;
    } else if (c === '(' || c === ')' || c === '|' || c === ',') {
      tokens.push({ t: 'punct', v: c });
      i++;
    } else if (text.startsWith(':=', i)) {
      tokens.push({ t: 'punct', v: ':=' });
      i += 2;
    } else if (c === '=') {
      tokens.push({ t: 'punct', v: '=' });
      i++;
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?/.exec(text.slice(i))!;
      i += m[0].length;
      tokens.push({ t: 'var', v: m[0], path: fieldChain() });
    } else if (c === '.') {
      if (text[i - 1] === ')') throw new TemplateError(`${where}: (…).Field is not supported by this model`);
      if (/[A-Za-z_]/.test(text[i + 1] ?? '')) tokens.push({ t: 'field', v: fieldChain() });
      else {
        tokens.push({ t: 'dot' });
        i++;
      }
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i));
      if (!m) throw new TemplateError(`${where}: cannot read "${text.slice(i)}"`);
      // Go template integer constants are ints; a decimal point or exponent makes a float.
      tokens.push({ t: 'num', v: m[1] || m[2] ? Number(m[0]) : BigInt(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      tokens.push({ t: 'ident', v: m[0] });
      i += m[0].length;
    } else {
      throw new TemplateError(`${where}: unexpected "${c}" in {{ ${text} }}`);
    }
  }
  return tokens;
}

function parsePipeline(tokens: Token[], where: string): Pipeline {
  let pos = 0;
  const pipeline = (stopAtParen: boolean): Pipeline => {
    const p: Pipeline = { cmds: [] };
    // Declarations: `$x := …`, `$x = …`, `$k, $v := …`
    const names: string[] = [];
    let look = pos;
    while (tokens[look]?.t === 'var' && (tokens[look] as { path: string[] }).path.length === 0) {
      names.push((tokens[look] as { v: string }).v);
      const next = tokens[look + 1];
      if (next?.t === 'punct' && next.v === ',') look += 2;
      else {
        look++;
        break;
      }
    }
    const op = tokens[look];
    if (names.length > 0 && op?.t === 'punct' && (op.v === ':=' || op.v === '=')) {
      p.decl = { names, assign: op.v === '=' };
      pos = look + 1;
    }
    let cmd: Command = [];
    while (pos < tokens.length) {
      const tok = tokens[pos]!;
      if (tok.t === 'punct' && tok.v === ')') {
        if (!stopAtParen) throw new TemplateError(`${where}: unexpected )`);
        break;
      }
      pos++;
      if (tok.t === 'punct' && tok.v === '|') {
        if (cmd.length === 0) throw new TemplateError(`${where}: empty command before |`);
        p.cmds.push(cmd);
        cmd = [];
      } else if (tok.t === 'punct' && tok.v === '(') {
        const inner = pipeline(true);
        const close = tokens[pos++];
        if (!(close?.t === 'punct' && close.v === ')')) throw new TemplateError(`${where}: unclosed (`);
        cmd.push({ kind: 'pipe', pipe: inner });
      } else if (tok.t === 'str' || tok.t === 'num') cmd.push({ kind: 'literal', value: tok.v });
      else if (tok.t === 'ident') {
        if (tok.v === 'true' || tok.v === 'false') cmd.push({ kind: 'literal', value: tok.v === 'true' });
        else if (tok.v === 'nil') cmd.push({ kind: 'literal', value: null });
        else cmd.push({ kind: 'ident', name: tok.v });
      } else if (tok.t === 'field') cmd.push({ kind: 'field', path: tok.v });
      else if (tok.t === 'var') cmd.push({ kind: 'var', name: tok.v, path: tok.path });
      else if (tok.t === 'dot') cmd.push({ kind: 'dot' });
      else throw new TemplateError(`${where}: unexpected ${tok.v}`);
    }
    if (cmd.length > 0) p.cmds.push(cmd);
    if (p.cmds.length === 0) throw new TemplateError(`${where}: empty pipeline`);
    return p;
  };
  const p = pipeline(false);
  if (pos !== tokens.length) throw new TemplateError(`${where}: trailing tokens`);
  return p;
}

// --------------------------------------------------------------------------------------------- parsing

/** Parses one file; `define` blocks go into `defines`, the rest is the file's own body. */
function parseTemplate(src: string, file: string, defines: Map<string, Node[]>): Node[] {
  const parts = splitTemplate(src, file);
  type Frame =
    | { kind: 'root'; body: Node[] }
    | { kind: 'if'; node: Extract<Node, { kind: 'if' }>; body: Node[] }
    | { kind: 'with' | 'range'; node: Extract<Node, { kind: 'with' | 'range' }>; body: Node[]; inElse: boolean }
    | { kind: 'define'; name: string; body: Node[] };
  const root: Frame = { kind: 'root', body: [] };
  const stack: Frame[] = [root];
  const top = () => stack[stack.length - 1]!;
  for (const part of parts) {
    if (typeof part === 'string') {
      if (part) top().body.push({ kind: 'text', text: part });
      continue;
    }
    if (part.comment) continue;
    const where = `${file}: {{ ${part.text} }}`;
    const tokens = tokenize(part.text, where);
    const head = tokens[0];
    const keyword = head?.t === 'ident' ? head.v : undefined;
    const rest = () => parsePipeline(tokens.slice(1), where);
    if (keyword === 'if') {
      const node: Extract<Node, { kind: 'if' }> = { kind: 'if', branches: [], otherwise: [] };
      const body: Node[] = [];
      node.branches.push({ cond: rest(), body });
      top().body.push(node);
      stack.push({ kind: 'if', node, body });
    } else if (keyword === 'with' || keyword === 'range') {
      const node = { kind: keyword, pipe: rest(), body: [], otherwise: [] } as Extract<
        Node,
        { kind: 'with' | 'range' }
      >;
      top().body.push(node);
      stack.push({ kind: keyword, node, body: node.body, inElse: false });
    } else if (keyword === 'else') {
      const f = top();
      if (f.kind === 'if') {
        const second = tokens[1];
        if (second?.t === 'ident' && second.v === 'if') {
          const body: Node[] = [];
          f.node.branches.push({ cond: parsePipeline(tokens.slice(2), where), body });
          f.body = body;
        } else if (tokens.length === 1) {
          f.body = f.node.otherwise;
        } else throw new TemplateError(`${where}: unsupported else form`);
      } else if ((f.kind === 'with' || f.kind === 'range') && tokens.length === 1 && !f.inElse) {
        f.inElse = true;
        f.body = f.node.otherwise;
      } else throw new TemplateError(`${where}: else outside if/with/range`);
    } else if (keyword === 'end') {
      const f = stack.pop();
      if (!f || f.kind === 'root') throw new TemplateError(`${where}: end without a block`);
      if (f.kind === 'define') defines.set(f.name, f.body);
    } else if (keyword === 'define') {
      const name = tokens[1];
      if (name?.t !== 'str' || tokens.length !== 2) throw new TemplateError(`${where}: define needs one name`);
      stack.push({ kind: 'define', name: name.v, body: [] });
    } else if (keyword === 'template') {
      const name = tokens[1];
      if (name?.t !== 'str') throw new TemplateError(`${where}: template needs a name`);
      const pipe = tokens.length > 2 ? parsePipeline(tokens.slice(2), where) : undefined;
      top().body.push({ kind: 'template', name: name.v, pipe });
    } else if (keyword === 'block' || keyword === 'break' || keyword === 'continue') {
      throw new TemplateError(`${where}: ${keyword} is not supported by this model`);
    } else {
      top().body.push({ kind: 'action', pipe: parsePipeline(tokens, where) });
    }
  }
  if (stack.length !== 1) throw new TemplateError(`${file}: unclosed block`);
  return root.body;
}

// ------------------------------------------------------------------------------------------ evaluation

function isMap(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** text/template truthiness (also Sprig's `empty`, inverted). */
export function truth(v: Value): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's %v for a float64: shortest digits, exponent form below 1e-4 or from 1e+06 on (1000000 → 1e+06). */
export function goFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mant = '', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return String(n);
}

/** fmt's %v. */
function formatValue(v: Value): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (isMap(v)) {
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${formatValue(v[k])}`)
      .join(' ')}]`;
  }
  return String(v);
}

/** Sprig's strval. */
function strval(v: Value): string {
  return formatValue(v);
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function toInt64(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return /^-?\d+$/.test(v.trim()) ? BigInt(v.trim()) : 0n;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

function sortKeys(v: Value): Value {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v)) {
    const out: Record<string, Value> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  if (typeof v === 'bigint') return Number(v);
  return v;
}

function strslice(v: Value): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== undefined).map(strval);
  return [strval(v)];
}

function asList(l: Value, fn: string): Value[] {
  if (!Array.isArray(l)) throw new TemplateError(`${fn}: cannot use ${formatValue(l)} as a list`);
  return l;
}

function deepEqual(a: Value, b: Value): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b)) && typeof a === typeof b;
}

function goEq(a: Value, b: Value): boolean {
  const num = (x: Value) => typeof x === 'number' || typeof x === 'bigint';
  if (num(a) && num(b) && typeof a !== typeof b) {
    throw new TemplateError(`incompatible types for comparison: ${typeof a} and ${typeof b}`);
  }
  if (Array.isArray(a) || isMap(a) || Array.isArray(b) || isMap(b)) {
    throw new TemplateError('eq: non-comparable types');
  }
  return (a ?? null) === (b ?? null);
}

function compare(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'bigint')) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  throw new TemplateError(`incompatible types for comparison: ${typeof a} and ${typeof b}`);
}

function printf(format: string, args: Value[]): string {
  let n = 0;
  return format.replace(/%([%svdq])/g, (_m, verb: string) => {
    if (verb === '%') return '%';
    const a = args[n++];
    if (verb === 'q') return goQuote(strval(a));
    return formatValue(a);
  });
}

interface Scope {
  vars: Map<string, Value>[];
}

export interface ChartFiles {
  /** Chart.yaml, parsed. */
  chart: Record<string, Value>;
  /** templates/<name> → text. */
  templates: Map<string, string>;
}

export class Renderer {
  private readonly defines = new Map<string, Node[]>();
  private readonly bodies = new Map<string, Node[]>();
  private readonly basePath: string;
  private depth = 0;
  private readonly files: ChartFiles;

  constructor(files: ChartFiles) {
    this.files = files;
    this.basePath = `${String(files.chart.name)}/templates`;
    for (const [name, text] of files.templates) {
      const full = `${this.basePath}/${name}`;
      this.bodies.set(full, parseTemplate(text, full, this.defines));
      // Helm makes every file a template of its own name, so `include "<chart>/templates/x.yaml"` works.
      this.defines.set(full, this.bodies.get(full)!);
    }
  }

  /** Renders every non-partial template; throws TemplateError on `required`/`fail` as `helm template` would. */
  render(values: Record<string, Value>, release = { name: 'rel', namespace: 'logferry' }): Map<string, string> {
    const chart = this.files.chart;
    const cap = (k: string) => k.charAt(0).toUpperCase() + k.slice(1);
    const top: Record<string, Value> = {
      Values: values,
      Release: {
        Name: release.name,
        Namespace: release.namespace,
        Service: 'Helm',
        IsInstall: true,
        IsUpgrade: false,
        Revision: 1,
      },
      Chart: Object.fromEntries(Object.entries(chart).map(([k, v]) => [cap(k), v])),
      Capabilities: { KubeVersion: { Version: 'v1.30.0' } },
    };
    const out = new Map<string, string>();
    for (const [full, body] of this.bodies) {
      const file = full.slice(this.basePath.length + 1);
      if (file.startsWith('_')) continue;
      const data = { ...top, Template: { Name: full, BasePath: this.basePath } };
      try {
        out.set(file, this.exec(body, data, { vars: [new Map([['$', data]])] }));
      } catch (err) {
        if (err instanceof TemplateError) throw new TemplateError(`${full}: ${err.message}`);
        throw err;
      }
    }
    return out;
  }

  private exec(nodes: Node[], dot: Value, scope: Scope): string {
    let out = '';
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          out += node.text;
          break;
        case 'action': {
          const v = this.pipeline(node.pipe, dot, scope);
          if (!node.pipe.decl) out += v === null || v === undefined ? '' : formatValue(v);
          break;
        }
        case 'if': {
          const inner: Scope = { vars: [...scope.vars, new Map()] };
          const hit = node.branches.find((b) => truth(this.pipeline(b.cond, dot, inner)));
          out += this.exec(hit ? hit.body : node.otherwise, dot, inner);
          break;
        }
        case 'with': {
          const inner: Scope = { vars: [...scope.vars, new Map()] };
          const v = this.pipeline(node.pipe, dot, inner);
          out += truth(v) ? this.exec(node.body, v, inner) : this.exec(node.otherwise, dot, inner);
          break;
        }
        case 'range': {
          const names = node.pipe.decl?.names ?? [];
          const pipe: Pipeline = { cmds: node.pipe.cmds };
          const coll = this.pipeline(pipe, dot, scope);
          const entries: [Value, Value][] = Array.isArray(coll)
            ? coll.map((v, i) => [BigInt(i), v])
            : isMap(coll)
              ? Object.keys(coll)
                  .sort()
                  .map((k) => [k, coll[k]])
              : coll === null || coll === undefined
                ? []
                : (() => {
                    throw new TemplateError(`range can't iterate over ${formatValue(coll)}`);
                  })();
          if (entries.length === 0) {
            out += this.exec(node.otherwise, dot, { vars: [...scope.vars, new Map()] });
            break;
          }
          for (const [k, v] of entries) {
            const frame = new Map<string, Value>();
            if (names.length === 1) frame.set(names[0]!, v);
            if (names.length === 2) {
              frame.set(names[0]!, k);
              frame.set(names[1]!, v);
            }
            out += this.exec(node.body, v, { vars: [...scope.vars, frame] });
          }
          break;
        }
        case 'template': {
          const v = node.pipe ? this.pipeline(node.pipe, dot, scope) : null;
          out += this.include(node.name, v);
          break;
        }
      }
    }
    return out;
  }

  private include(name: string, data: Value): string {
    const body = this.defines.get(name);
    if (!body) throw new TemplateError(`no template "${name}"`);
    if (++this.depth > 100) throw new TemplateError(`include depth exceeded in "${name}"`);
    try {
      return this.exec(body, data, { vars: [new Map([['$', data]])] });
    } finally {
      this.depth--;
    }
  }

  private pipeline(p: Pipeline, dot: Value, scope: Scope): Value {
    let piped: { v: Value } | undefined;
    for (const cmd of p.cmds) piped = { v: this.command(cmd, dot, scope, piped) };
    const result = piped?.v;
    if (p.decl) {
      const name = p.decl.names[0]!;
      if (p.decl.assign) {
        const frame = [...scope.vars].reverse().find((f) => f.has(name));
        if (!frame) throw new TemplateError(`undefined variable: ${name}`);
        frame.set(name, result);
      } else scope.vars[scope.vars.length - 1]!.set(name, result);
    }
    return result;
  }

  private operand(o: Operand, dot: Value, scope: Scope): Value {
    switch (o.kind) {
      case 'dot':
        return dot;
      case 'literal':
        return o.value;
      case 'field':
        return field(dot, o.path);
      case 'var': {
        const frame = [...scope.vars].reverse().find((f) => f.has(o.name));
        if (!frame) throw new TemplateError(`undefined variable: ${o.name}`);
        return field(frame.get(o.name), o.path);
      }
      case 'pipe':
        return this.pipeline(o.pipe, dot, scope);
      case 'ident':
        // A function named without arguments, e.g. `(list)`.
        return this.call(o.name, [], dot, scope);
    }
  }

  private command(cmd: Command, dot: Value, scope: Scope, piped: { v: Value } | undefined): Value {
    const [head, ...args] = cmd;
    if (head?.kind === 'ident') return this.call(head.name, args, dot, scope, piped);
    if (args.length > 0 || piped) throw new TemplateError(`can't give an argument to a non-function`);
    return this.operand(head!, dot, scope);
  }

  private call(name: string, argOps: Operand[], dot: Value, scope: Scope, piped?: { v: Value }): Value {
    // and/or evaluate lazily, left to right, and return the deciding operand (Go 1.18+).
    if (name === 'and' || name === 'or') {
      const thunks: (() => Value)[] = argOps.map((o) => () => this.operand(o, dot, scope));
      if (piped) thunks.push(() => piped.v);
      if (thunks.length === 0) throw new TemplateError(`${name} needs arguments`);
      let v: Value;
      for (const t of thunks) {
        v = t();
        if (name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const args = argOps.map((o) => this.operand(o, dot, scope));
    if (piped) args.push(piped.v);
    const fn = FUNCS[name];
    if (name === 'include') return this.include(String(args[0]), args[1]);
    if (name === 'tpl') throw new TemplateError('tpl is not supported by this model');
    if (!fn) throw new TemplateError(`function "${name}" not defined in this model`);
    return fn(...args);
  }
}

function field(v: Value, path: string[]): Value {
  let cur = v;
  for (const key of path) {
    if (cur === null || cur === undefined) throw new TemplateError(`nil pointer evaluating interface {}.${key}`);
    if (!isMap(cur)) throw new TemplateError(`can't evaluate field ${key} in ${formatValue(cur)}`);
    cur = cur[key];
  }
  return cur === undefined ? null : cur;
}

const FUNCS: Record<string, (...a: Value[]) => Value> = {
  required: (msg, v) => {
    if (v === null || v === undefined || v === '') throw new TemplateError(String(msg));
    return v;
  },
  fail: (msg) => {
    throw new TemplateError(String(msg));
  },
  quote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => goQuote(strval(x)))
      .join(' '),
  squote: (...a) =>
    a
      .filter((x) => x !== null && x !== undefined)
      .map((x) => `'${strval(x)}'`)
      .join(' '),
  // Annotated: `toString` also names Object.prototype's method, which defeats contextual typing.
  toString: (v: Value) => strval(v),
  print: (...a) =>
    a.reduce<string>((s, x, i) => {
      const sep = i > 0 && typeof x !== 'string' && typeof a[i - 1] !== 'string' ? ' ' : '';
      return s + sep + formatValue(x);
    }, ''),
  printf: (f, ...a) => printf(String(f), a),
  join: (sep, list) => strslice(list).join(String(sep)),
  splitList: (sep, s) => String(s).split(String(sep)),
  first: (l) => (Array.isArray(l) && l.length > 0 ? l[0] : null),
  last: (l) => (Array.isArray(l) && l.length > 0 ? l[l.length - 1] : null),
  list: (...a) => a,
  dict: (...a) => {
    const out: Record<string, Value> = {};
    for (let i = 0; i < a.length; i += 2) out[strval(a[i])] = a[i + 1] ?? null;
    return out;
  },
  // Sprig fails (panics) on anything but a list, nil included.
  append: (l, v) => [...asList(l, 'append'), v],
  prepend: (l, v) => [v, ...asList(l, 'prepend')],
  concat: (...ls) => ls.flatMap((l) => (Array.isArray(l) ? l : [])),
  has: (needle, hay) => Array.isArray(hay) && hay.some((x) => deepEqual(x, needle)),
  hasKey: (m, k) => isMap(m) && Object.hasOwn(m, String(k)),
  keys: (...ms) => ms.flatMap((m) => (isMap(m) ? Object.keys(m) : [])),
  index: (m, ...ks) => {
    let cur = m;
    for (const k of ks) {
      if (Array.isArray(cur)) cur = cur[Number(k)];
      else if (isMap(cur)) cur = cur[String(k)];
      else throw new TemplateError(`index of untyped nil`);
    }
    return cur ?? null;
  },
  len: (v) => BigInt(typeof v === 'string' || Array.isArray(v) ? v.length : isMap(v) ? Object.keys(v).length : 0),
  default: (d, ...given) => (given.length === 0 || !truth(given[0]) ? d : given[0]),
  empty: (v) => !truth(v),
  coalesce: (...a) => a.find(truth) ?? null,
  ternary: (a, b, c) => (truth(c) ? a : b),
  not: (v) => !truth(v),
  eq: (a, ...bs) => bs.some((b) => goEq(a, b)),
  ne: (a, b) => !goEq(a, b),
  lt: (a, b) => compare(a, b) < 0,
  le: (a, b) => compare(a, b) <= 0,
  gt: (a, b) => compare(a, b) > 0,
  ge: (a, b) => compare(a, b) >= 0,
  add: (...a) => a.reduce<bigint>((s, x) => s + toInt64(x), 0n),
  sub: (a, b) => toInt64(a) - toInt64(b),
  mul: (a, ...b) => b.reduce<bigint>((s, x) => s * toInt64(x), toInt64(a)),
  div: (a, b) => toInt64(a) / toInt64(b),
  int: (v) => toInt64(v),
  int64: (v) => toInt64(v),
  trunc: (n, s) => {
    const str = String(s);
    const k = Number(n);
    return k >= 0 ? str.slice(0, k) : str.slice(Math.max(0, str.length + k));
  },
  trim: (s) => String(s).trim(),
  trimSuffix: (suf, s) => (String(s).endsWith(String(suf)) ? String(s).slice(0, -String(suf).length || undefined) : s),
  trimPrefix: (pre, s) => (String(s).startsWith(String(pre)) ? String(s).slice(String(pre).length) : s),
  replace: (o, n, s) => String(s).split(String(o)).join(String(n)),
  lower: (s) => String(s).toLowerCase(),
  upper: (s) => String(s).toUpperCase(),
  contains: (sub, s) => String(s).includes(String(sub)),
  hasPrefix: (p, s) => String(s).startsWith(String(p)),
  hasSuffix: (p, s) => String(s).endsWith(String(p)),
  indent: (n, s) => {
    const pad = ' '.repeat(Number(n));
    return pad + String(s).replaceAll('\n', `\n${pad}`);
  },
  nindent: (n, s) => {
    const pad = ' '.repeat(Number(n));
    return `\n${pad}${String(s).replaceAll('\n', `\n${pad}`)}`;
  },
  sha256sum: (s) => createHash('sha256').update(String(s)).digest('hex'),
  toJson: (v) => JSON.stringify(sortKeys(v) ?? null),
  toPrettyJson: (v) => JSON.stringify(sortKeys(v) ?? null, null, 2),
  toYaml: (v) => (v === null || v === undefined ? 'null' : stringifyYaml(sortKeys(v)).replace(/\n$/, '')),
  fromYaml: (s) => {
    try {
      const v = parseYaml(String(s));
      return isMap(v) ? v : {};
    } catch (err) {
      return { Error: (err as Error).message };
    }
  },
  fromJson: (s) => {
    try {
      return JSON.parse(String(s));
    } catch (err) {
      return { Error: (err as Error).message };
    }
  },
};

/** Reads a chart directory (Chart.yaml and templates/*). */
export function loadChart(dir: string): Renderer {
  const chart = parseYaml(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as Record<string, Value>;
  const templates = new Map<string, string>();
  for (const f of readdirSync(join(dir, 'templates')).sort()) {
    if (/\.(ya?ml|tpl|txt)$/.test(f)) templates.set(f, readFileSync(join(dir, 'templates', f), 'utf8'));
  }
  return new Renderer({ chart, templates });
}

/**
 * Helm's coalescing of user values over the chart's: maps merge key by key, anything else replaces,
 * and a null removes the chart's key.
 */
export function coalesceValues(base: Value, override: Value): Value {
  if (isMap(base) && isMap(override)) {
    const out: Record<string, Value> = { ...base };
    for (const [k, v] of Object.entries(override)) {
      if (v === null) delete out[k];
      else out[k] = coalesceValues(out[k], v);
    }
    return out;
  }
  return override === undefined ? base : override;
}
