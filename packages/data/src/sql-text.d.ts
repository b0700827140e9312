/** `.sql` files are imported as their text (tsup `loader`, vitest plugin in vitest.config.ts). */
declare module '*.sql' {
  const text: string;
  export default text;
}
