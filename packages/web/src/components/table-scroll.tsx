import type { ComponentChildren } from 'preact';

/**
 * A table wider than a narrow screen scrolls sideways inside this region instead of
 * widening the whole page; the region takes the focus so the keyboard can scroll it.
 */
export function TableScroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is focused to scroll it.
    <section class="table-scroll" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
