/**
 * A pattern of the API's schemas (`PATTERN` of pattern.gen.ts: a regular expression the
 * server anchors with `^` and `$`) as an input's `pattern` attribute. Browsers anchor that
 * attribute themselves and compile it with the `v` flag, under which a `-` ending a
 * character class is an error (the input then checks nothing): it is escaped.
 */
export function inputPattern(pattern: string): string {
  return pattern
    .replace(/^\^/, '')
    .replace(/\$$/, '')
    .replace(/(?<!\\)-\]/g, '\\-]');
}
