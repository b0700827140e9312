const rules = new Intl.PluralRules('en');

/** A count with its noun in the right number: `1 fragment`, `0 fragments`, `2 files`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${rules.select(n) === 'one' ? one : many}`;
}
