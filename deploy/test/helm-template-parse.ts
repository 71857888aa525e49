// The parsing half of the Go template model (./helm-render.ts): splits a file into text and actions (applying
// the {{- -}} trim markers), tokenizes actions, and builds the tree of if/with/range/define/template nodes.
// Constructs outside the subset the chart uses throw.

/** A `required` or `fail` in the chart, or a template error Helm would also report. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type Value = unknown;
export type Operand =
  | { kind: 'dot' }
  | { kind: 'field'; path: string[] }
  | { kind: 'var'; name: string; path: string[] }
  | { kind: 'literal'; value: Value }
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };
export type Command = Operand[];
export interface Pipeline {
  decl?: { names: string[]; assign: boolean };
  cmds: Command[];
}
export type Node =
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
export function parseTemplate(src: string, file: string, defines: Map<string, Node[]>): Node[] {
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
