import type { Fragment, FragmentChange } from '@aios/carma';
import { z } from 'zod';
import { iso } from '../http/time.js';

/**
 * What the MCP tools return, as zod schemas (the tools' output schemas) and the functions
 * that make them. Texts in lists are cut to `LIST_TEXT_CHARS` (with `truncated: true`): a
 * list or a search goes into a model's context whole, so it is bounded in items and in size;
 * `memory_get` gives the whole text.
 */
export const LIST_TEXT_CHARS = 1_000;

const MetadataValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string(), z.number(), z.boolean()])),
]);
export const Metadata = z.record(z.string(), MetadataValue);

export const FragmentView = z.object({
  id: z.string(),
  namespace: z.string(),
  text: z.string(),
  truncated: z.boolean().describe('Whether `text` was cut (memory_get gives it whole)'),
  metadata: Metadata,
  importance: z.number(),
  core: z.boolean(),
  version: z.number().int(),
  createdAt: z.string().describe('ISO 8601'),
  updatedAt: z.string().describe('ISO 8601'),
});
export type FragmentViewType = z.infer<typeof FragmentView>;

export const ChangeView = z.object({
  version: z.number().int(),
  kind: z.string().describe('add, update, delete, reinforce, merge or link'),
  at: z.string().describe('ISO 8601'),
  text: z.string(),
  truncated: z.boolean(),
  metadata: Metadata,
  importance: z.number(),
  note: z.string().optional(),
});

function cut(text: string, max: number | undefined): { text: string; truncated: boolean } {
  return max !== undefined && text.length > max
    ? { text: `${text.slice(0, max)}…`, truncated: true }
    : { text, truncated: false };
}

export function fragmentView(f: Fragment, maxText?: number): FragmentViewType {
  return {
    id: f.id,
    namespace: f.namespace,
    ...cut(f.text, maxText),
    metadata: f.metadata,
    importance: f.importance,
    core: f.core,
    version: f.version,
    createdAt: iso(f.createdAt),
    updatedAt: iso(f.updatedAt),
  };
}

export function changeView(c: FragmentChange): z.infer<typeof ChangeView> {
  return {
    version: c.version,
    kind: c.kind,
    at: iso(c.at),
    ...cut(c.text, LIST_TEXT_CHARS),
    metadata: c.metadata,
    importance: c.importance,
    ...(c.note === undefined ? {} : { note: c.note }),
  };
}
