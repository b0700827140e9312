import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Aios, type AiosConfig, createAios } from '@aios/core';
import { type DataStore, dropPostgresSchema } from '@aios/data';
import { apiError } from '../http/errors.js';
import { DEFAULT_TENANT, TENANTS_DIR, tenantId, tenantSchema } from './ids.js';

/**
 * How long an open tenant's system is used before the registry looks again whether the
 * tenant is still the one it opened: another server on the same PostgreSQL may have
 * erased it (and its id may have been given to a new tenant since).
 */
export const TENANT_RECHECK_MS = 2_000;

/**
 * Each tenant is a home of its own: the default tenant is the server's home (what the CLI
 * works on), every other one `<home>/tenants/<id>`, opened on first use through the one
 * composition root, `createAios`. A tenant's memories, conversations, feedback, personality
 * and backups live in its files, so another tenant's ids are simply not there (404), and
 * erasing a tenant removes its directory. On PostgreSQL (`data.url`) every instance names
 * the same database: there a tenant's store is a schema of its own (`tenantSchema`), the
 * same on every instance, and erasing the tenant drops it.
 */
export class TenantRegistry {
  private readonly open = new Map<string, Promise<Aios>>();
  /** When each open tenant was created (its row) and when that was last looked at. */
  private readonly opened = new Map<string, { createdAt: number; checkedAt: number }>();
  /** Tenants whose system is kept closed (a restore runs), with what runs. */
  private readonly held = new Map<string, string>();
  private closed = false;
  /** Looks at the open tenants on a timer when another server may erase them (PostgreSQL). */
  private readonly sweeper: NodeJS.Timeout | undefined;

  constructor(
    /** The server's own system: the default tenant, and the store of keys and the audit log. */
    readonly root: Aios,
    private readonly options: { offline?: boolean } = {},
  ) {
    // A tenant erased through another server has its keys refused here at once, so no
    // request of its own comes to close its system: without the timer its connections
    // and its files (index caches, backups) would stay until this server stops.
    if (root.config.data.url !== undefined) {
      this.sweeper = setInterval(() => void this.sweep(), TENANT_RECHECK_MS);
      this.sweeper.unref();
    }
  }

  /** Where tenants' access records live (the home's data store). */
  get control(): DataStore {
    return this.root.data;
  }

  homeOf(id: string): string {
    return id === DEFAULT_TENANT ? this.root.home : join(this.root.home, TENANTS_DIR, tenantId(id));
  }

  /** The config of tenant `id`: the server's, with every path inside the tenant's home. */
  configOf(id: string): AiosConfig {
    const home = this.homeOf(id);
    const base = this.root.config;
    return {
      ...base,
      home,
      data: {
        ...base.data,
        path: join(home, 'aios.db'),
        ...(base.data.url === undefined ? {} : { schema: this.schemaOf(id) }),
      },
      backup: { ...base.backup, repository: join(home, 'backups') },
    };
  }

  /** Tenant `id`'s PostgreSQL schema (the default tenant's: `data.schema`, else the role's). */
  schemaOf(id: string): string | undefined {
    const base = this.root.config.data.schema;
    return id === DEFAULT_TENANT ? base : tenantSchema(id, base);
  }

  /** The system of tenant `id`, opened once; `TENANT_NOT_FOUND` for an unknown tenant. */
  async system(id: string): Promise<Aios> {
    if (id === DEFAULT_TENANT) return this.root;
    if (this.closed) throw apiError('SHUTTING_DOWN', 'the server is shutting down');
    this.checkNotHeld(id);
    let opening = this.open.get(id);
    if (opening) await this.recheck(id);
    opening = this.open.get(id);
    if (!opening) {
      const tenant = await this.control.tenants.get(id);
      if (!tenant) throw apiError('TENANT_NOT_FOUND', `no tenant ${JSON.stringify(id)}`, { id });
      opening = this.open.get(id);
      if (!opening) {
        opening = createAios({
          config: this.configOf(id),
          ...(this.options.offline ? { offline: true } : {}),
        });
        this.open.set(id, opening);
        this.opened.set(id, { createdAt: tenant.createdAt, checkedAt: Date.now() });
        opening.catch(() => this.forget(id, opening));
      }
    }
    return opening;
  }

  /**
   * Closes tenant `id`'s system and removes its files here when its row is gone or belongs
   * to a tenant created since (erased, and perhaps made again, through another server):
   * its index caches and backups hold what was erased. Looked at once every
   * `TENANT_RECHECK_MS` at most; meanwhile its requests wait with `TENANT_BUSY`.
   */
  private async recheck(id: string): Promise<void> {
    const seen = this.opened.get(id);
    if (!seen || Date.now() - seen.checkedAt < TENANT_RECHECK_MS) return;
    seen.checkedAt = Date.now();
    const tenant = await this.control.tenants.get(id);
    if (tenant?.createdAt === seen.createdAt) return;
    await this.dropErased(id);
  }

  /**
   * Closes an erased tenant's system and removes its files here. The close may fail (what
   * it writes last goes to a schema already dropped): moot for an erased tenant, whose
   * files go all the same.
   */
  private async dropErased(id: string): Promise<void> {
    await this.whileClosed(
      id,
      'it was erased through another server',
      () => rm(this.homeOf(id), { recursive: true, force: true }),
      { closeMayFail: true },
    );
  }

  /**
   * `recheck` for every open tenant with one read of the tenants' rows. A failure (the
   * store unreachable, a restore holding the tenant) waits for the next turn.
   */
  private async sweep(): Promise<void> {
    if (this.closed || this.opened.size === 0) return;
    const readAt = Date.now();
    const rows = await this.control.tenants.list().catch(() => undefined);
    if (!rows || this.closed) return;
    const created = new Map(rows.map((t) => [t.id, t.createdAt]));
    for (const [id, seen] of [...this.opened]) {
      if (created.get(id) === seen.createdAt) continue;
      // Opened or looked at since the rows were read: that look is the newer one.
      if (this.opened.get(id) !== seen || seen.checkedAt >= readAt) continue;
      seen.checkedAt = Date.now();
      await this.dropErased(id).catch(() => undefined);
    }
  }

  private forget(id: string, opening: Promise<Aios> | undefined): void {
    if (this.open.get(id) !== opening) return;
    this.open.delete(id);
    this.opened.delete(id);
  }

  /** Tenants whose system is open now. */
  openTenants(): string[] {
    return [DEFAULT_TENANT, ...this.open.keys()];
  }

  /** Closes tenant `id`'s system (not the default tenant's). */
  async closeTenant(id: string): Promise<void> {
    const opening = this.open.get(id);
    if (!opening) return;
    this.forget(id, opening);
    const system = await opening.catch(() => undefined);
    await system?.close();
  }

  private checkNotHeld(id: string): void {
    const held = this.held.get(id);
    if (held !== undefined) {
      throw apiError('TENANT_BUSY', `tenant ${JSON.stringify(id)} is unavailable while ${held}`, {
        id,
        retryAfterSeconds: 5,
      });
    }
  }

  /**
   * Runs `fn` with tenant `id`'s system closed (its files may then be replaced); meanwhile
   * its requests fail with `TENANT_BUSY`. The next request after it opens the system again.
   */
  async whileClosed<T>(
    id: string,
    what: string,
    fn: () => Promise<T>,
    options: { closeMayFail?: boolean } = {},
  ): Promise<T> {
    if (id === DEFAULT_TENANT) {
      throw apiError(
        'INVALID_INPUT',
        "the default tenant's system stays open while the server runs",
      );
    }
    this.checkNotHeld(id);
    this.held.set(id, what);
    try {
      const closing = this.closeTenant(id);
      await (options.closeMayFail ? closing.catch(() => undefined) : closing);
      return await fn();
    } finally {
      this.held.delete(id);
    }
  }

  /** Closes every tenant's system, then removes tenant `id`'s directory. */
  async removeTenantFiles(id: string): Promise<void> {
    if (id === DEFAULT_TENANT)
      throw apiError('INVALID_INPUT', 'the default tenant cannot be removed');
    await this.closeTenant(id);
    await rm(this.homeOf(id), { recursive: true, force: true });
  }

  /**
   * Drops tenant `id`'s schema on PostgreSQL (its system closed first): its store with
   * every row. The schema's name, or null when the store is a file in its home.
   */
  async removeTenantStore(id: string): Promise<string | null> {
    if (id === DEFAULT_TENANT)
      throw apiError('INVALID_INPUT', 'the default tenant cannot be removed');
    const { url, password } = this.root.config.data;
    const schema = this.schemaOf(id);
    if (url === undefined || schema === undefined) return null;
    await this.closeTenant(id);
    await dropPostgresSchema(url, { schema, ...(password === undefined ? {} : { password }) });
    return schema;
  }

  /** Closes every tenant's system but the root (the server closes that last). */
  async closeAll(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const ids = [...this.open.keys()];
    await Promise.allSettled(ids.map((id) => this.closeTenant(id)));
  }
}
