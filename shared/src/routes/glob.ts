/**
 * A key glob as a whole-key regular expression: `**` any characters, `*` any characters but `/`,
 * `?` one character but `/`; everything else literal. The literal prefix (text before the first
 * wildcard) is what precedence between routes is decided on.
 */
export function compileGlob(glob: string): { pattern: RegExp; prefix: string } {
  let source = '';
  let prefix: string | undefined;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' || c === '?') {
      prefix ??= glob.slice(0, i);
      if (c === '?') source += '[^/]';
      else if (glob[i + 1] === '*') {
        source += '.*';
        i++;
      } else source += '[^/]*';
    } else {
      source += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
    }
  }
  return { pattern: new RegExp(`^${source}$`, 's'), prefix: prefix ?? glob };
}
