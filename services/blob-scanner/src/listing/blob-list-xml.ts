/** One blob of a List Blobs page: what a scan compares with the blob's status row. */
export interface ListedBlob {
  readonly name: string;
  readonly etag: string;
  readonly size: number;
}

export interface BlobListPage {
  readonly blobs: ListedBlob[];
  /** Where the next page starts; undefined on the last page. */
  readonly nextMarker: string | undefined;
}

/** The List Blobs answer is not the XML the service documents; the scan fails with this, not with a wrong count. */
export class BlobListFormatError extends Error {
  override readonly name = 'BlobListFormatError';
}

const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Reads the three fields a scan needs from one List Blobs (flat) answer, without building the whole
 * document. The SDK's way (core-client's XML parse of the body, then its deserializer) was most of a
 * rescan's client CPU; this is a string scan bounded by the page, which the service caps at 5,000 blobs.
 * It reads only what a flat listing without `include=` holds: no metadata, tags or prefixes.
 *
 * Safe as a scan because element text cannot hold a raw `<`: a name such as `a<Blob>b` arrives as
 * `a&lt;Blob&gt;b`. A name with characters XML cannot carry arrives percent-encoded with `Encoded="true"`,
 * as the SDK decodes it too.
 */
export function parseBlobListPage(xml: string): BlobListPage {
  const root = xml.indexOf('<EnumerationResults');
  const rootEnd = xml.lastIndexOf('</EnumerationResults>');
  if (root < 0 || rootEnd < root) throw new BlobListFormatError('List Blobs answer has no EnumerationResults element');
  const blobs: ListedBlob[] = [];
  let at = root;
  for (;;) {
    const open = xml.indexOf('<Blob>', at);
    if (open < 0 || open > rootEnd) break;
    const close = xml.indexOf('</Blob>', open);
    if (close < 0 || close > rootEnd) throw new BlobListFormatError('List Blobs answer has an unclosed Blob element');
    blobs.push(parseBlob(xml, open + '<Blob>'.length, close));
    at = close + '</Blob>'.length;
  }
  const marker = element(xml, 'NextMarker', at, rootEnd);
  return { blobs, nextMarker: marker === undefined || marker.text === '' ? undefined : decode(marker.text) };
}

function parseBlob(xml: string, from: number, to: number): ListedBlob {
  const name = element(xml, 'Name', from, to);
  if (name === undefined) throw new BlobListFormatError('List Blobs answer has a Blob without a Name');
  const etag = element(xml, 'Etag', from, to);
  const length = element(xml, 'Content-Length', from, to);
  const size = length === undefined ? Number.NaN : Number(length.text);
  if (!Number.isSafeInteger(size) || size < 0 || length?.text.trim() === '') {
    throw new BlobListFormatError('List Blobs answer has a Blob without a valid Content-Length');
  }
  const text = decode(name.text);
  return {
    name: /\bEncoded\s*=\s*["']true["']/.test(name.attributes) ? decodeEncodedName(text) : text,
    etag: etag === undefined ? '' : decode(etag.text),
    size,
  };
}

/** The text and attributes of the first `<tag …>text</tag>` (or `<tag/>`, text '') between from and to. */
function element(
  xml: string,
  tag: string,
  from: number,
  to: number,
): { readonly text: string; readonly attributes: string } | undefined {
  let at = from;
  for (;;) {
    const open = xml.indexOf(`<${tag}`, at);
    if (open < 0 || open >= to) return undefined;
    const afterName = open + tag.length + 1;
    const next = xml[afterName];
    // `<Name` must not match `<NameX>`.
    if (next !== '>' && next !== '/' && next !== ' ' && next !== '\t' && next !== '\n' && next !== '\r') {
      at = afterName;
      continue;
    }
    const tagEnd = xml.indexOf('>', afterName);
    if (tagEnd < 0 || tagEnd >= to) throw new BlobListFormatError(`List Blobs answer has an unclosed ${tag} tag`);
    if (xml[tagEnd - 1] === '/') return { text: '', attributes: xml.slice(afterName, tagEnd - 1) };
    const close = xml.indexOf(`</${tag}>`, tagEnd);
    if (close < 0 || close >= to) throw new BlobListFormatError(`List Blobs answer has an unclosed ${tag} element`);
    return { text: xml.slice(tagEnd + 1, close), attributes: xml.slice(afterName, tagEnd) };
  }
}

function decode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (_, entity: string) => {
    if (entity[0] !== '#') return NAMED[entity]!;
    const code = entity[1] === 'x' ? Number.parseInt(entity.slice(2), 16) : Number.parseInt(entity.slice(1), 10);
    if (code > 0x10ffff) throw new BlobListFormatError('List Blobs answer has an invalid character reference');
    return String.fromCodePoint(code);
  });
}

function decodeEncodedName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BlobListFormatError('List Blobs answer has an encoded Name that does not decode');
  }
}
