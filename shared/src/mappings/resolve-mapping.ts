import type { Mapping, Mappings } from './mapping-schema.ts';

/** `<NAME>` of `<NAME>-…` or `<NAME>/…`: the text before the first '-' or '/'. */
function prefixOf(name: string): string | undefined {
  const match = /^([^-/]+)[-/]/.exec(name);
  return match?.[1];
}

/**
 * The mapping for a blob by its name's prefix: `TrafficFlows-2024-01-01.csv` and `TrafficFlows/batch-7.json.gz`
 * both match the entry "TrafficFlows". A blob inside folders (`incoming/TrafficFlows-1.csv`) matches by its
 * base name when the first segment is not itself an entry. Case-sensitive, like blob names and ADX tables.
 */
export function resolveMapping(mappings: Mappings, blobName: string): Mapping | undefined {
  return routeBlob(mappings, blobName).mapping;
}

/**
 * The mapping (as {@link resolveMapping}) and the name the blob was routed by: the entry that matched, else
 * the base name's prefix, else the whole blob name — what a "no mapping" reason names.
 */
export function routeBlob(mappings: Mappings, blobName: string): { mapping: Mapping | undefined; key: string } {
  const first = prefixOf(blobName);
  const direct = first === undefined ? undefined : mappings.get(first);
  if (first !== undefined && direct) return { mapping: direct, key: first };
  const base = prefixOf(blobName.slice(blobName.lastIndexOf('/') + 1));
  const key = base ?? blobName;
  return { mapping: base === undefined ? undefined : mappings.get(base), key };
}

/** The mapping that routes batches staged by s3-fetcher for a logical source to ADX, if any. */
export function mappingForSource(mappings: Mappings, source: string): Mapping | undefined {
  return mappings.get(source);
}
