import { useAccess } from '../access';
import { TENANT_ID_PATTERN } from './tenant-id';

/**
 * The tenant an admin form acts on, offered to the server admin only: any other key acts
 * on its own tenant, and the server answers 404 when it names another.
 */
export function TenantField({
  id,
  value,
  onInput,
}: {
  id: string;
  value: string;
  onInput: (value: string) => void;
}) {
  const { serverAdmin } = useAccess();
  if (!serverAdmin) return null;
  return (
    <>
      <label for={id}>Tenant (default: this key's)</label>
      <input
        id={id}
        pattern={TENANT_ID_PATTERN}
        value={value}
        onInput={(e) => onInput((e.target as HTMLInputElement).value)}
      />
    </>
  );
}
