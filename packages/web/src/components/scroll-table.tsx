import type { ComponentChildren } from 'preact';

/**
 * A table of rows under named columns, with its caption for screen readers. Wider than a
 * narrow screen, it scrolls sideways inside its region instead of widening the whole page;
 * the region takes the focus so the keyboard can scroll it. `children` are its body's rows.
 */
export function ScrollTable({
  caption,
  columns,
  children,
}: {
  caption: string;
  columns: readonly string[];
  children: ComponentChildren;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is focused to scroll it.
    <section class="table-scroll" aria-label={caption} tabIndex={0}>
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th scope="col" key={column}>
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </section>
  );
}
