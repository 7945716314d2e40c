/**
 * Data table rows: `GET|PUT /api/v2/flows/datatables/{tableId}/rows/{rowKey}`; the target ID is `TABLEID/ROWKEY`
 * (workflows/workflow-ids.ts). A read asks `showbrief=false` (the default answers the key only); a PUT replaces the
 * row and carries its `key`. Rows have no version and no modification stamps: the platform offers no optimistic lock,
 * so Tollgate's own guard applies, and who changed a row comes from the Audit API only. The audit trail names a row
 * by its key, with the table in the entry's context.
 */
import { splitCompositeId } from '../../workflows/workflow-ids';
import { platformAdapter, seg, type TargetAdapter } from './target-adapter';

function parts(id: string): { container: string; key: string } {
  const split = splitCompositeId(id);
  if (!split) throw new TypeError(`not a data table row id (TABLEID/ROWKEY): ${id}`);
  return split;
}

export const datatableRowAdapter: TargetAdapter = platformAdapter({
  type: 'datatable.row',
  path: (id) => {
    const { container, key } = parts(id);
    return `/api/v2/flows/datatables/${seg(container)}/rows/${seg(key)}`;
  },
  readQuery: '?showbrief=false',
  writeMethod: 'PUT',
  versioned: false,
  audit: { serviceName: 'Datatables', entityType: 'DataTableRow' },
  serverManaged: ['key'],
  writeBody: (id, fields) => ({ ...fields, key: parts(id).key }),
  auditEntityId: (id) => parts(id).key,
  targetIdOf: (entityId, context) => (context?.datatableId ? `${context.datatableId}/${entityId}` : undefined),
});
