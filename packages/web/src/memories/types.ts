import type { paths } from '../api/schema.gen';

export type Fragment =
  paths['/v1/memory/{id}']['get']['responses'][200]['content']['application/json'];
export type SearchAnswer =
  paths['/v1/memory/search']['post']['responses'][200]['content']['application/json'];
export type SearchResult = SearchAnswer['results'][number];
export type Explain = NonNullable<SearchResult['explain']>;
export type HistoryEntry =
  paths['/v1/memory/{id}/history']['get']['responses'][200]['content']['application/json']['items'][number];

/** A row of the Memories list: a fragment, with its score and explanation when searched. */
export interface Row {
  fragment: Fragment;
  score?: number;
  explain?: Explain;
}
