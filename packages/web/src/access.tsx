import { type ComponentChildren, createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { paths } from './api/schema.gen';

export type Whoami = paths['/v1/whoami']['get']['responses'][200]['content']['application/json'];

/** A scope a page or a control needs (the server's list); `admin` holds every one. */
export type Scope = Whoami['scopes'][number];

/**
 * What the signed-in key may do, so that a control it cannot use is not offered. Until the
 * key's scopes are known (or when they could not be read) everything is offered: the
 * server refuses what the key may not do either way.
 */
export interface Access {
  keyId: string | null;
  /** The tenant the key acts on (null until known). */
  tenant: string | null;
  can: (scope: Scope) => boolean;
  /** Whether the key administers the server: all tenants, not only its own. */
  serverAdmin: boolean;
}

export function accessOf(whoami: Whoami | undefined): Access {
  if (!whoami) return { keyId: null, tenant: null, can: () => true, serverAdmin: true };
  const scopes = new Set(whoami.scopes);
  return {
    keyId: whoami.keyId,
    tenant: whoami.tenant,
    can: (scope) => scopes.has(scope) || scopes.has('admin'),
    serverAdmin: whoami.serverAdmin,
  };
}

const AccessContext = createContext<Access>(accessOf(undefined));

export const AccessProvider = AccessContext.Provider;

export function useAccess(): Access {
  return useContext(AccessContext);
}

/** Says what `scope` is needed for, instead of a control that would be refused. */
export function ScopeNote({ scope, children }: { scope: Scope; children: ComponentChildren }) {
  const { keyId } = useAccess();
  return (
    <p class="notice">
      {children} needs the <code>{scope}</code> scope, which{' '}
      {keyId ? (
        <>
          key <code>{keyId}</code>
        </>
      ) : (
        'this key'
      )}{' '}
      does not hold: a key with it is made with{' '}
      <code>aios keys create --name web --scope {scope}</code>.
    </p>
  );
}
