/**
 * Readable text built from a document's pieces (a page's, an OpenDocument's): the pieces in
 * order, with the strongest separator asked for between two of them, and where in the
 * document each piece came from.
 */

/** Separators between pieces of text, weakest first: the strongest one asked for is kept. */
const BREAKS = ['', ' ', ' | ', '\n', '\n\n'] as const;
export type Break = (typeof BREAKS)[number];

export class TextBuilder {
  private readonly parts: string[] = [];
  private length = 0;
  private pending: Break = '';
  /** Pairs (offset in the text, offset in the source), one per piece, increasing. */
  readonly marks: number[] = [];
  /** What goes before the next piece: a heading's `#`s, a list item's dash. */
  lead = '';

  /** Asks for `brk` before the next piece (a weaker break asked for too is dropped). */
  ask(brk: Break): void {
    if (BREAKS.indexOf(brk) > BREAKS.indexOf(this.pending)) this.pending = brk;
  }

  /** Appends `text` as it is, from offset `at` of the source. */
  emit(text: string, at = 0): void {
    if (this.length > 0 && this.pending !== '') {
      this.parts.push(this.pending);
      this.length += this.pending.length;
    }
    this.pending = '';
    this.marks.push(this.length, at);
    const piece = this.lead + text;
    this.lead = '';
    this.parts.push(piece);
    this.length += piece.length;
  }

  /**
   * Appends flowing text (`data`, from offset `at`): runs of white space are one space,
   * and one at either end only separates it from its neighbours.
   */
  flow(data: string, at = 0): void {
    const text = data.replace(/\s+/g, ' ');
    const body = text.trim();
    if (body === '') {
      if (text !== '') this.ask(' ');
      return;
    }
    if (text.startsWith(' ')) this.ask(' ');
    this.emit(body, at + (text.startsWith(' ') ? data.search(/\S/) : 0));
    if (text.endsWith(' ')) this.ask(' ');
  }

  /** Puts `head` before all that was built (its pieces keep their places in the source). */
  prepend(head: string, at: number): void {
    for (let i = 0; i < this.marks.length; i += 2) {
      this.marks[i] = (this.marks[i] as number) + head.length;
    }
    this.marks.unshift(0, at);
    this.parts.unshift(head);
    this.length += head.length;
  }

  text(): string {
    return this.parts.join('');
  }
}
