// Reads docs/deployment.md the way a reader copies it: the fenced blocks (language and text), the prose between
// them, the heredocs the blocks write, and the shell variables the blocks assign. A small model of bash's
// expansion (`$VAR`, `${VAR}`, and an unquoted heredoc's backslash rules) turns a heredoc into the file it
// writes, with command substitutions answered from samples the test gives.

export interface Fence {
  readonly lang: string;
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
}

export interface Guide {
  readonly fences: Fence[];
  /** The prose lines (outside fences) with their 1-based line numbers. */
  readonly prose: { line: number; text: string }[];
}

export function readGuide(markdown: string): Guide {
  const fences: Fence[] = [];
  const prose: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  let open: { lang: string; line: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    const fence = /^\s*```(\S*)\s*$/.exec(text);
    if (fence && !open) open = { lang: fence[1] ?? '', line: i + 1, body: [] };
    else if (fence && open) {
      fences.push({ lang: open.lang, text: open.body.join('\n'), line: open.line });
      open = undefined;
    } else if (open) open.body.push(text);
    else prose.push({ line: i + 1, text });
  });
  if (open) throw new Error(`unclosed fence at line ${open.line}`);
  return { fences, prose };
}

export interface Heredoc {
  readonly target: string;
  readonly body: string;
  /** An unquoted delimiter: the body is expanded. */
  readonly expands: boolean;
  readonly fence: Fence;
}

/** Every `cat > FILE <<DELIM … DELIM` in the guide's bash blocks. */
export function heredocs(guide: Guide): Heredoc[] {
  const out: Heredoc[] = [];
  for (const fence of guide.fences.filter((f) => f.lang === 'bash')) {
    const lines = fence.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /cat > (\S+) <<(['"]?)([A-Z]+)\2\s*$/.exec(lines[i] ?? '');
      if (!m) continue;
      const end = lines.indexOf(m[3]!, i + 1);
      if (end < 0) throw new Error(`heredoc ${m[3]} for ${m[1]} never ends`);
      out.push({ target: m[1]!, body: lines.slice(i + 1, end).join('\n'), expands: m[2] === '', fence });
      i = end;
    }
  }
  return out;
}

/** `NAME=value` assignments at the start of a command (several may share a line), in guide order. */
export function assignments(guide: Guide): { name: string; rhs: string; fence: Fence }[] {
  const out: { name: string; rhs: string; fence: Fence }[] = [];
  for (const fence of guide.fences.filter((f) => f.lang === 'bash')) {
    for (const line of fence.text.split('\n')) {
      // Each word-start NAME=, its value up to the next unquoted space (a $( … ) runs to its closing paren).
      const re = /(?:^|\s)([A-Z_][A-Z0-9_]*)=/g;
      for (let m = re.exec(line); m; m = re.exec(line)) {
        if (/^\s*#/.test(line.slice(0, m.index + 1))) break;
        out.push({ name: m[1]!, rhs: shellWord(line.slice(m.index + m[0].length)), fence });
      }
    }
  }
  return out;
}

/** The first shell word of text: quotes and $( … ) kept whole. */
function shellWord(text: string): string {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(' && text[i - 1] === '$') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (/\s/.test(c) && depth === 0) return text.slice(0, i);
  }
  return text;
}

/** The variables `$VAR` / `${VAR}` a text refers to. */
export function referenced(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]!))];
}

/**
 * Resolves variables as bash would after running the guide's blocks in order: a literal assignment is expanded
 * (its own $VARs resolved the same way), a command substitution takes the sample the test supplies; a sample also
 * stands for a value the reader must choose (one the guide can only give as an example).
 */
export function resolver(guide: Guide, samples: Record<string, string>): (name: string) => string {
  const defs = new Map<string, string>();
  for (const a of assignments(guide)) if (!defs.has(a.name)) defs.set(a.name, a.rhs);
  const seen = new Map<string, string>();
  const resolve = (name: string): string => {
    const known = seen.get(name);
    if (known !== undefined) return known;
    const rhs = defs.get(name);
    if (rhs === undefined) throw new Error(`$${name} is never set in the guide`);
    let value: string;
    if (samples[name] !== undefined) value = samples[name];
    else if (rhs.includes('$(')) {
      value = samples[name] ?? '';
      if (!value) throw new Error(`$${name} comes from a command (${rhs}); the test needs a sample for it`);
    } else {
      value = expand(rhs.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1'), resolve);
    }
    seen.set(name, value);
    return value;
  };
  return resolve;
}

/** Expands $VAR / ${VAR} with an unquoted heredoc's backslash rules (\\, \$, \` and \newline; others literal). */
export function expand(text: string, resolve: (name: string) => string): string {
  return text
    .replace(/\\\n/g, '')
    .replace(/\\([\\$`])|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, esc, a, b) =>
      esc !== undefined ? esc : resolve(a ?? b),
    );
}
