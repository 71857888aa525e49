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
  const first = prefixOf(blobName);
  const direct = first === undefined ? undefined : mappings.get(first);
  if (direct) return direct;
  const slash = blobName.lastIndexOf('/');
  if (slash < 0) return undefined;
  const base = prefixOf(blobName.slice(slash + 1));
  return base === undefined ? undefined : mappings.get(base);
}

/** The mapping that routes batches staged by s3-fetcher for a logical source to ADX, if any. */
export function mappingForSource(mappings: Mappings, source: string): Mapping | undefined {
  return mappings.get(source);
}
