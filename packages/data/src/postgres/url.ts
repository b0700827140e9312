import { invalidInput } from '@aios/utils';

/** Whether `location` names a PostgreSQL server rather than an SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** `location` with whatever stands between `//` and `@` after the user name hidden. */
function masked(location: string): string {
  return location.replace(/^([a-z]+:\/\/[^/@:]*):[^/@]*@/i, '$1:****@');
}

export interface PostgresTarget {
  /** What node-postgres connects with (the password in it). */
  connectionString: string;
  password: string | undefined;
  /** The URL without its password: what the store shows as its `path` and in errors. */
  display: string;
  /** The database's name (the URL's path). */
  database: string;
  /** The schema the store lives in (its connections' search_path), or the role's default. */
  schema: string | undefined;
}

/** Schema names the store accepts: plain identifiers, never quoted, within NAMEDATALEN. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a schema name (`INVALID_INPUT` for anything but a plain lowercase identifier). */
export function postgresSchema(value: unknown): string {
  if (typeof value !== 'string' || !SCHEMA_NAME.test(value) || value.startsWith('pg_')) {
    throw invalidInput(
      'schema',
      value,
      'a PostgreSQL schema name: lowercase letters, digits and _, 1-63, not starting with a digit or pg_',
    );
  }
  return value;
}

/**
 * Checks a `postgres://user[:password]@host[:port]/database` URL. The password may be in
 * the URL or given apart (`password`, as the config keeps it); it never appears in what
 * is shown, errors included. With `schema`, every connection made from the target has it
 * as its search_path (a startup option in the connection string, so a reconnect or a
 * second connection keeps it): several stores share one database, one per schema.
 */
export function postgresTarget(
  location: string,
  password?: string,
  schema?: string,
): PostgresTarget {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw invalidInput(
      'url',
      masked(location),
      'a postgres:// URL such as postgres://aios@127.0.0.1:5432/aios',
    );
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^postgres(ql)?:$/i.test(url.protocol) || url.hostname === '' || database === '') {
    throw invalidInput(
      'url',
      masked(location),
      'a postgres:// URL with a host and a database, such as postgres://aios@127.0.0.1:5432/aios',
    );
  }
  const inUrl = url.password === '' ? undefined : decodeURIComponent(url.password);
  const secret = password ?? inUrl;
  const inSchema = schema === undefined ? undefined : postgresSchema(schema);
  url.password = '';
  const display = url.toString();
  // node-postgres lets the URL's fields override the others: the password goes in it, and
  // the search_path joins whatever startup options the URL already has.
  if (secret !== undefined) url.password = encodeURIComponent(secret);
  if (inSchema !== undefined) {
    const options = url.searchParams.get('options');
    url.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${inSchema}`);
  }
  return {
    connectionString: url.toString(),
    password: secret,
    display,
    database,
    schema: inSchema,
  };
}
