// The List Blobs page reader against answers shaped as the service documents them, and against broken ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlobListFormatError, parseBlobListPage } from '../../src/listing/blob-list-xml.ts';

const page = (blobs: string, marker = '<NextMarker />') =>
  `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://x/" ContainerName="data"><MaxResults>2</MaxResults><Blobs>${blobs}</Blobs>${marker}</EnumerationResults>`;
const blob = (name: string, props = '<Etag>0x8DB1</Etag><Content-Length>42</Content-Length>') =>
  `<Blob>${name}<Properties><Creation-Time>Mon, 01 Jan 2026 00:00:00 GMT</Creation-Time>${props}<Content-Type>text/csv</Content-Type></Properties><OrMetadata /></Blob>`;

describe('parseBlobListPage', () => {
  it('reads name, ETag and size of each blob, and the next marker', () => {
    const xml = page(
      blob('<Name>a.csv</Name>') +
        blob('<Name>b &amp; &lt;c&gt; &quot;d&quot; &apos;e&apos; &#x65E5;&#26412;.csv</Name>'),
      '<NextMarker>2!12!MDAw&amp;</NextMarker>',
    );
    assert.deepEqual(parseBlobListPage(xml), {
      blobs: [
        { name: 'a.csv', etag: '0x8DB1', size: 42 },
        { name: `b & <c> "d" 'e' 日本.csv`, etag: '0x8DB1', size: 42 },
      ],
      nextMarker: '2!12!MDAw&',
    });
  });

  it('decodes a name the service sent percent-encoded (Encoded="true")', () => {
    const xml = page(blob('<Name Encoded="true">bad%EF%BF%BEchar%01.csv</Name>'));
    assert.equal(parseBlobListPage(xml).blobs[0]?.name, 'bad\uFFFEchar\u0001.csv');
  });

  it('reads an empty page and a last page (empty or missing NextMarker)', () => {
    assert.deepEqual(parseBlobListPage(page('')), { blobs: [], nextMarker: undefined });
    assert.deepEqual(parseBlobListPage(page('', '<NextMarker></NextMarker>')), { blobs: [], nextMarker: undefined });
    assert.equal(parseBlobListPage(page(blob('<Name>a</Name>'), '')).nextMarker, undefined);
  });

  it('does not take a longer tag for the one it looks for', () => {
    const xml = page(blob('<NameX>wrong</NameX><Name>right</Name>'));
    assert.equal(parseBlobListPage(xml).blobs[0]?.name, 'right');
  });

  it('rejects an answer that is not a List Blobs page, or a blob it cannot read whole', () => {
    const broken: Record<string, string> = {
      'not XML': 'Service Unavailable',
      'no Name': page(blob('')),
      'no Content-Length': page(blob('<Name>a</Name>', '<Etag>1</Etag>')),
      'a negative Content-Length': page(blob('<Name>a</Name>', '<Content-Length>-1</Content-Length>')),
      'a non-numeric Content-Length': page(blob('<Name>a</Name>', '<Content-Length>12abc</Content-Length>')),
      'an empty Content-Length': page(blob('<Name>a</Name>', '<Content-Length></Content-Length>')),
      'an unclosed Blob': page('<Blob><Name>a</Name>'),
      'an unclosed Name': page(blob('<Name>a')),
      'a truncated answer': page(blob('<Name>a</Name>')).slice(0, -30),
      'an encoded Name that does not decode': page(blob('<Name Encoded="true">%E0%A4%A</Name>')),
      'a character reference out of range': page(blob('<Name>&#x110000;</Name>')),
    };
    for (const [what, xml] of Object.entries(broken)) {
      assert.throws(() => parseBlobListPage(xml), BlobListFormatError, what);
    }
  });
});
