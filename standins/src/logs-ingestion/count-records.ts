const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Elements of a JSON array of objects, counted without parsing it (the stand-in's count-only mode, so a
 * benchmark measures the services rather than the sink): commas at depth 1 outside strings. It checks the
 * brackets balance and that each element opens with `{`, not that the JSON is otherwise valid. undefined
 * when the body is not such an array.
 */
export function countArrayObjects(body: Buffer): number | undefined {
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_ARRAY) return undefined;
  let depth = 0;
  let count = 0;
  let expectElement = true;
  for (; i < body.length; i++) {
    const c = body[i];
    if (c === QUOTE) {
      i = stringEnd(body, i);
      if (i < 0) return undefined;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (depth === 1) {
        if (!expectElement || c !== OPEN_OBJECT) return undefined;
        expectElement = false;
        count++;
      }
      depth++;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
      if (depth === 0)
        return skipSpace(body, i + 1) === body.length && (count === 0 || !expectElement) ? count : undefined;
      if (depth < 0) return undefined;
    } else if (depth === 1) {
      if (c === COMMA && !expectElement) expectElement = true;
      else if (!isSpace(c)) return undefined;
    }
  }
  return undefined;
}

/** Index of the quote closing the string opened at `open`, or -1. */
function stringEnd(body: Buffer, open: number): number {
  let at = open;
  for (;;) {
    at = body.indexOf(QUOTE, at + 1);
    if (at < 0) return -1;
    let backslashes = 0;
    while (body[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

function skipSpace(body: Buffer, from: number): number {
  let i = from;
  while (i < body.length && isSpace(body[i])) i++;
  return i;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
