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
}

/**
 * Checks a `postgres://user[:password]@host[:port]/database` URL. The password may be in
 * the URL or given apart (`password`, as the config keeps it); it never appears in what
 * is shown, errors included.
 */
export function postgresTarget(location: string, password?: string): PostgresTarget {
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
  url.password = '';
  const display = url.toString();
  // node-postgres lets the URL's fields override the others: the password goes in it.
  if (secret !== undefined) url.password = encodeURIComponent(secret);
  return { connectionString: url.toString(), password: secret, display };
}
