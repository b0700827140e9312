/**
 * What a driver call gives back: the value itself (SQLite, synchronous underneath) or a
 * promise of it (PostgreSQL, over the network).
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * `fn(value)`, at once when `value` is not a promise: the hot paths of a synchronous
 * driver (a point read takes microseconds) stay free of microtask hops, while an
 * asynchronous driver's promise is chained as usual. (Not named `then`: a module exporting
 * `then` is a thenable, and `await import()` of it never settles as expected.)
 */
export function chain<T, U>(value: Awaitable<T>, fn: (value: T) => Awaitable<U>): Awaitable<U> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

/**
 * Work that yields each driver result it needs (`const rows: SqlRow[] = yield
 * driver.query(...)`) and gets it back, whether the driver gave a value or a promise.
 */
// biome-ignore lint/suspicious/noExplicitAny: what a yield gives back is the yielded driver result
export type Steps<T> = Generator<unknown, T, any>;

/**
 * Runs `steps`: synchronously for as long as what it yields are values (a SQLite
 * transaction then begins, writes and commits in one go, as before: another store of the
 * same file in this process, whose SQLite call would wait on the lock synchronously,
 * cannot get in between), and from the first promise on, asynchronously.
 */
export function drive<T>(steps: Steps<T>): Awaitable<T> {
  return advance(steps, steps.next());
}

/** Steps on from `next`: in a loop while values come, and after each promise settles. */
function advance<T>(steps: Steps<T>, next: IteratorResult<unknown, T>): Awaitable<T> {
  for (;;) {
    if (next.done) return next.value;
    const value = next.value;
    if (value instanceof Promise) {
      return value.then(
        (result) => advance(steps, steps.next(result)),
        (error: unknown) => advance(steps, steps.throw(error)),
      );
    }
    next = steps.next(value);
  }
}
