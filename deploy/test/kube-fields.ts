// Unknown fields, as `kubectl apply`'s strict field validation (and `kubeconform -strict`) refuses them. The
// models' validators accept any extra property (the OpenAPI schemas do not close their objects), so the field
// names come from the models' TypeScript declarations instead: each `I<Type>` interface lists its properties and
// imports the interfaces of its nested types. Primitive, union and int-or-string types are leaves.
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';

type Shape =
  | { kind: 'object'; props: Map<string, Shape | (() => Shape)> }
  | { kind: 'array'; of: Shape | (() => Shape) }
  | { kind: 'map'; of: Shape | (() => Shape) }
  | { kind: 'leaf' };

const LEAF: Shape = { kind: 'leaf' };
const shapes = new Map<string, Shape>();

/** The declaration file of a module specifier (as the test resolves it) or of a path relative to `from`. */
function declarationFile(specifier: string, from?: string): string {
  const js =
    specifier.startsWith('.') && from
      ? resolvePath(dirname(from), specifier)
      : fileURLToPath(import.meta.resolve(specifier));
  return js.replace(/\.js$/, '').concat('.d.ts');
}

/** The main interface of a declaration file: its property names and their types. */
function shapeOf(file: string): Shape {
  const known = shapes.get(file);
  if (known) return known;
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/import \{ ([^}]+) \} from "([^"]+)";/g)) {
    for (const name of m[1]!.split(',').map((n) => n.trim())) imports.set(name, m[2]!);
  }
  const start = /export interface \w+(?: extends [\w, ]+)? \{\n/.exec(text);
  if (!start) {
    // A type alias (IntOrString: number | string, Quantity, Time) is a leaf; anything else is a model we misread.
    if (!/export type \w+ = /.test(text)) throw new Error(`${file}: neither an interface nor a type alias`);
    shapes.set(file, LEAF);
    return LEAF;
  }
  const body = text.slice(start.index + start[0].length, text.indexOf('\n}', start.index));
  const props = new Map<string, Shape | (() => Shape)>();
  const shape: Shape = { kind: 'object', props };
  shapes.set(file, shape); // before the properties: types refer to themselves (JSONSchemaProps)
  const typeOf = (type: string): Shape | (() => Shape) => {
    const t = type.trim();
    const array = /^Array<(.+)>$/s.exec(t);
    if (array) return { kind: 'array', of: typeOf(array[1]!) };
    const map = /^\{\s*\[key: string\]: (.+?);?\s*\}$/s.exec(t);
    if (map) return { kind: 'map', of: typeOf(map[1]!) };
    const from = /^I\w+$/.test(t) ? imports.get(t) : undefined;
    if (from) return () => shapeOf(declarationFile(from, file));
    return LEAF;
  };
  // Each property runs to the `;` that closes it at brace depth 0.
  for (let i = 0; i < body.length; ) {
    const m = /"([^"]+)"\??: /y;
    m.lastIndex = body.slice(i).search(/\S/) + i;
    const head = m.exec(body);
    if (!head) break;
    let j = m.lastIndex;
    let depth = 0;
    for (; j < body.length; j++) {
      if (body[j] === '{' || body[j] === '<') depth++;
      else if (body[j] === '}' || body[j] === '>') depth--;
      else if (body[j] === ';' && depth === 0) break;
    }
    props.set(head[1]!, typeOf(body.slice(m.lastIndex, j)));
    i = j + 1;
  }
  return shape;
}

const force = (s: Shape | (() => Shape)): Shape => (typeof s === 'function' ? s() : s);

function walk(value: unknown, shape: Shape, path: string, out: string[]): void {
  if (value === null || value === undefined || shape.kind === 'leaf') return;
  if (shape.kind === 'array') {
    if (Array.isArray(value)) for (const [i, v] of value.entries()) walk(v, force(shape.of), `${path}[${i}]`, out);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return; // a wrong type is the schema validator's to report
  for (const [k, v] of Object.entries(value)) {
    if (shape.kind === 'map') walk(v, force(shape.of), `${path}.${k}`, out);
    else {
      const prop = shape.props.get(k);
      if (prop === undefined) out.push(`${path}.${k}: unknown field`);
      else walk(v, force(prop), `${path}.${k}`, out);
    }
  }
}

/** Fields of a manifest its kind does not have, as paths (`spec.template.spec.priorityClasName: unknown field`). */
export function unknownFields(manifest: unknown, modelSpecifier: string): string[] {
  const out: string[] = [];
  walk(manifest, shapeOf(declarationFile(modelSpecifier)), '', out);
  return out.map((p) => p.replace(/^\./, ''));
}
