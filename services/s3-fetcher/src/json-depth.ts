const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether one JSON text nests deeper than `max` levels. JSON.parse copes with any depth, but
 * JSON.stringify (re-serializing a record to add TimeGenerated) recurses and throws a RangeError past
 * a few thousand levels, and so would any consumer that walks the record. Cheap for ordinary records:
 * when the text holds no more than `max` opening brackets at all (counted natively), it cannot be deeper.
 */
export function nestsDeeperThan(text: Buffer, max: number): boolean {
  let opens = 0;
  for (let i = text.indexOf(OPEN_OBJECT); i !== -1 && opens <= max; i = text.indexOf(OPEN_OBJECT, i + 1)) opens++;
  for (let i = text.indexOf(OPEN_ARRAY); i !== -1 && opens <= max; i = text.indexOf(OPEN_ARRAY, i + 1)) opens++;
  if (opens <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const b = text[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (++depth > max) return true;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth--;
    }
  }
  return false;
}
