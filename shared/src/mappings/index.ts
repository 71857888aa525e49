export { loadMappings, loadMappingsOrExit, MappingsError, parseMappings } from './load-mappings.ts';
export {
  DELIMITED_FORMATS,
  FORMAT_MAPPING_KIND,
  type IngestFormat,
  type Mapping,
  type MappingEntry,
  type MappingKind,
  type Mappings,
} from './mapping-schema.ts';
export { mappingForSource, resolveMapping, routeBlob } from './resolve-mapping.ts';
