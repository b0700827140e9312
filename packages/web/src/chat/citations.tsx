import { useAccess } from '../access';
import { api, isApiError, ok } from '../api/client';
import { formatNumber, oneLine } from '../components/format';
import { useLoad } from '../hooks';
import { linkHandler } from '../router';
import type { Source } from './ask-stream';
import type { Message } from './conversations';

/** A source of an answer, as a citation: the fragment it opens and what to show of it. */
export interface Citation {
  id: string;
  /** What the answer quoted; null for an answer stored before its excerpts were kept. */
  text: string | null;
  detail: string;
}

/** Where a source came from, how relevant, whether it held the answer: what is known of it. */
function detailOf(where: string | null, relevance: number | null, grounded: boolean | null) {
  const parts = [
    where,
    relevance === null ? null : `relevance ${formatNumber(relevance)}`,
    grounded ? 'holds the answer' : null,
  ];
  return parts.filter((part) => part).join(' · ');
}

/** A source's file, with the chapter of a book's passage: `keeper.epub, "The Storm"`. */
function placeOf(file: string | null, chapter: unknown): string | null {
  return file !== null && typeof chapter === 'string' && chapter !== ''
    ? `${file}, "${chapter}"`
    : file;
}

/** A source of the answer streaming in. */
export function citationOf(s: Source): Citation {
  return {
    id: s.id,
    text: s.quote ?? s.snippet,
    detail: detailOf(placeOf(s.source, s.metadata.chapter) ?? s.namespace, s.relevance, s.grounded),
  };
}

type StoredSource = NonNullable<Message['sources']>[number];

/**
 * A source of a stored answer as the live answer cited it: its excerpt was kept with the
 * answer (the fragment may be gone since); an answer stored before that has its id only.
 */
export function storedCitationOf(s: StoredSource): Citation {
  return {
    id: s.id,
    text: s.excerpt,
    detail: detailOf(placeOf(s.source, s.chapter) ?? s.namespace, s.relevance, s.grounded),
  };
}

/** How much of a looked-up fragment a citation shows: a few lines, as a kept excerpt. */
const LOOKED_UP_CHARS = 300;

function fragmentPath(id: string): string {
  return `/memories/${encodeURIComponent(id)}`;
}

function Cited({ id, text, detail }: { id: string; text: string; detail: string }) {
  const path = fragmentPath(id);
  return (
    <li>
      <a href={path} onClick={linkHandler(path)} data-source-id={id}>
        {text}
      </a>
      <span class="muted"> {detail}</span>
    </li>
  );
}

/**
 * A source whose excerpt the answer did not keep: the fragment's text, read while it is in
 * memory, or said to be gone (no link: there is nothing to open). A key that cannot read
 * memories is not made to try.
 */
function LookedUp({ id, detail }: { id: string; detail: string }) {
  const { can } = useAccess();
  const readable = can('memory:read');
  const fragment = useLoad(
    async () =>
      readable ? ok(api.GET('/v1/memory/{id}', { params: { path: { id } } })) : undefined,
    [id, readable],
  );
  if (isApiError(fragment.error, 'FRAGMENT_NOT_FOUND')) {
    return (
      <li data-gone-id={id}>
        <em>A fragment no longer in memory</em>
        <span class="muted"> {detail}</span>
      </li>
    );
  }
  const text = fragment.data
    ? oneLine(fragment.data.text, LOOKED_UP_CHARS)
    : fragment.loading
      ? 'Reading the fragment…'
      : 'A fragment of memory';
  return <Cited id={id} text={text} detail={detail} />;
}

export function Citations({ citations }: { citations: Citation[] }) {
  if (citations.length === 0) return null;
  return (
    <ol class="sources" aria-label="Sources">
      {citations.map((c) =>
        c.text === null ? (
          <LookedUp key={c.id} id={c.id} detail={c.detail} />
        ) : (
          <Cited key={c.id} id={c.id} text={c.text} detail={c.detail} />
        ),
      )}
    </ol>
  );
}
