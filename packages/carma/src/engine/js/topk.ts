/** `a` ranks before `b`: higher score, then smaller id (the Rust `topk::better`). */
export function better(sa: number, ia: number, sb: number, ib: number): boolean {
  if (sa > sb) return true;
  if (sa < sb) return false;
  return ia < ib;
}

/** Keeps the k best (score, id) pairs; the root of the min-heap is the worst kept. */
export class TopK {
  private readonly scores: number[] = [];
  private readonly ids: number[] = [];
  constructor(private readonly k: number) {}

  get size(): number {
    return this.ids.length;
  }

  /** The score a new hit must reach to enter, when full. */
  threshold(): number {
    return this.ids.length === this.k ? (this.scores[0] as number) : Number.NEGATIVE_INFINITY;
  }

  push(score: number, id: number): void {
    const s = this.scores;
    const d = this.ids;
    if (d.length < this.k) {
      s.push(score);
      d.push(id);
      let i = d.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (better(s[p] as number, d[p] as number, s[i] as number, d[i] as number)) {
          this.swap(p, i);
          i = p;
        } else break;
      }
    } else if (better(score, id, s[0] as number, d[0] as number)) {
      s[0] = score;
      d[0] = id;
      const n = d.length;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let w = i;
        if (l < n && better(s[w] as number, d[w] as number, s[l] as number, d[l] as number)) w = l;
        if (r < n && better(s[w] as number, d[w] as number, s[r] as number, d[r] as number)) w = r;
        if (w === i) break;
        this.swap(i, w);
        i = w;
      }
    }
  }

  private swap(a: number, b: number): void {
    const s = this.scores;
    const d = this.ids;
    const ts = s[a] as number;
    s[a] = s[b] as number;
    s[b] = ts;
    const td = d[a] as number;
    d[a] = d[b] as number;
    d[b] = td;
  }

  /** Kept hits, best first. */
  sorted(): { scores: number[]; ids: number[] } {
    const order = this.ids.map((_, i) => i);
    order.sort((a, b) => {
      const sa = this.scores[a] as number;
      const sb = this.scores[b] as number;
      if (sa !== sb) return sb - sa;
      return (this.ids[a] as number) - (this.ids[b] as number);
    });
    return {
      scores: order.map((i) => this.scores[i] as number),
      ids: order.map((i) => this.ids[i] as number),
    };
  }
}
