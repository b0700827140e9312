import { type TSchema, Type } from 'typebox';
import { SCOPES } from '../auth/keys.js';

/** The one error shape of every non-2xx answer. */
export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable, upper-snake-case code to switch on' }),
      message: Type.String({ description: 'For people; may change' }),
      details: Type.Record(Type.String(), Type.Unknown()),
      requestId: Type.Optional(Type.String()),
    }),
  },
  { $id: 'Error', title: 'Error' },
);

/** A request body: unknown fields are refused, not dropped. */
export function Body<T extends Record<string, TSchema>>(
  properties: T,
  options: { title?: string } = {},
) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** One of the scopes a key can hold, as every route that names scopes says it. */
export const ScopeSchema = Type.Enum(SCOPES);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const Timestamp = Type.String({ format: 'date-time' });

/** Cursor pagination: `limit` items after `cursor` (the `nextCursor` of the page before). */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  });
}

export const JsonObject = Type.Record(Type.String(), Type.Unknown());
