import type { TableClient } from '@azure/data-tables';
import type { Decision } from './blob-row-rules.ts';
import {
  type BlobStatusRow,
  fromEntity,
  partitionKeyOf,
  rowKeyOf,
  toEntity,
  type VersionedRow,
} from './blob-status-model.ts';

export type TransitionResult =
  | { readonly applied: true; readonly row: BlobStatusRow }
  | { readonly applied: false; readonly row: BlobStatusRow | undefined; readonly reason: string };

const MAX_RACE_RETRIES = 8;

/**
 * Read → decide → write with the entity ETag (create for a new row), decided again after a lost race, so
 * concurrent writers never overwrite each other's decisions. `raced` says a race was lost on the way.
 */
export async function transitionRow(
  table: TableClient,
  now: () => Date,
  container: string,
  name: string,
  decide: (current: BlobStatusRow | undefined, at: string) => Decision,
): Promise<TransitionResult & { raced: boolean }> {
  let raced = false;
  for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
    const current = await readRow(table, container, name);
    const decision = decide(current?.row, now().toISOString());
    if ('keep' in decision) return { applied: false, row: current?.row, reason: decision.keep, raced };
    const entity = toEntity(decision.write) as never;
    const written = current
      ? await writeUnlessRaced(() => table.updateEntity(entity, 'Replace', { etag: current.entityEtag }))
      : await writeUnlessRaced(() => table.createEntity(entity));
    if (written) return { applied: true, row: decision.write, raced };
    raced = true;
  }
  throw new Error(`status row for ${container}/${name} kept changing under ${MAX_RACE_RETRIES} attempts`);
}

/** True when written; false when another writer got there first (409 on create, 412/404 on replace). */
async function writeUnlessRaced(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 409 || status === 412 || status === 404) return false;
    throw error;
  }
}

export async function readRow(table: TableClient, container: string, name: string): Promise<VersionedRow | undefined> {
  const entity = await getEntityOrUndefined(table, partitionKeyOf(container), rowKeyOf(name));
  if (!entity) return undefined;
  return { row: fromEntity(entity), entityEtag: entity.etag as string };
}

export async function getEntityOrUndefined(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    return (await table.getEntity(partitionKey, rowKey)) as unknown as Record<string, unknown>;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}
