// A small interpreter for the subset of Go templates and Sprig functions this chart uses, so the tests can
// render the chart without a helm binary and look at the manifests it produces.
//
// It is a model, not Helm: it follows text/template's rules for whitespace trimming, truthiness, variable
// scope, short-circuit `and`/`or`, nil field access (an error) and missing map keys (nil), and Sprig's rules for
// `required` (fails only on nil or ""), `default`/`empty`, `join`, `quote` and integer arithmetic. Numbers from
// values are float64 as in Helm (printed with Go's %v, so 1000000 prints as 1e+06); Sprig arithmetic yields int64
// (a bigint here). Anything outside the subset throws, so an unsupported construct fails a test instead of
// rendering something Helm would not. Not modelled: Go's argument types (an int64 passed where a function takes
// an int fails in Helm and passes here: the chart converts with `int` where it must). `helm template` remains
// the reference (see the chart README). Parsing: ./helm-template-parse.ts; values and functions: ./helm-sprig.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FUNCS, formatValue, isMap, truth } from './helm-sprig.ts';
import {
  type Command,
  type Node,
  type Operand,
  type Pipeline,
  parseTemplate,
  TemplateError,
  type Value,
} from './helm-template-parse.ts';

export { goFloat, truth } from './helm-sprig.ts';
export { TemplateError } from './helm-template-parse.ts';

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
