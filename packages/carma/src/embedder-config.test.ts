import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, loadConfig } from '@aios/utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { embedderOptionsFromConfig, summarizeEmbedderConfig } from './embedder-config.js';
import { ROLE_PRESET_NAMES } from './embedding-roles.js';
import type { OpenAIEmbedder } from './openai.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'carma-config-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const load = (env: Record<string, string>) =>
  loadConfig({ cwd: home, env: { AIOS_HOME: home, ...env }, secrets: false }).config;

describe('the embedder of the shared config', () => {
  it('offers exactly the presets the embedder knows', () => {
    const embedder = configSchema.shape.carma.unwrap().shape.embedder;
    const parse = (preset: string) =>
      embedder.safeParse({ provider: 'openai', baseUrl: 'http://x/v1', model: 'm', preset });
    for (const name of ['auto', 'none', ...ROLE_PRESET_NAMES])
      expect(parse(name).success).toBe(true);
    expect(parse('e6').success).toBe(false);
  });

  it('picks the preset of the model name, and the config overrides it key by key', () => {
    const base = {
      AIOS_CARMA__EMBEDDER__PROVIDER: 'openai',
      AIOS_CARMA__EMBEDDER__BASE_URL: 'http://127.0.0.1:8765/v1',
    };
    const roles = (env: Record<string, string>) =>
      (
        embedderOptionsFromConfig(load({ ...base, ...env }).carma.embedder)
          .embedder as OpenAIEmbedder
      ).roles;
    expect(roles({ AIOS_CARMA__EMBEDDER__MODEL: 'multilingual-e5-small-q4' })).toEqual({
      query: { inputType: 'query' },
      document: { inputType: 'passage' },
    });
    expect(
      roles({
        AIOS_CARMA__EMBEDDER__MODEL: 'my-own-model',
        AIOS_CARMA__EMBEDDER__QUERY_PREFIX: 'Q: ',
        AIOS_CARMA__EMBEDDER__DOCUMENT_INPUT_TYPE: 'doc',
      }),
    ).toEqual({ query: { prefix: 'Q: ' }, document: { inputType: 'doc' } });
    expect(
      roles({
        AIOS_CARMA__EMBEDDER__MODEL: 'nomic-embed-text',
        AIOS_CARMA__EMBEDDER__PRESET: 'none',
      }),
    ).toBeUndefined();
    const e = embedderOptionsFromConfig(
      load({
        ...base,
        AIOS_CARMA__EMBEDDER__MODEL: 'e5-base',
        AIOS_CARMA__EMBEDDER__CONCURRENCY: '3',
      }).carma.embedder,
    ).embedder as OpenAIEmbedder;
    expect(e.roles?.query).toEqual({ prefix: 'query: ' });
    expect(embedderOptionsFromConfig(load({}).carma.embedder)).toEqual({ dimension: 384 });
  });

  it('summarizes what is configured, for aios status', () => {
    expect(summarizeEmbedderConfig(load({}).carma.embedder)).toEqual({
      embedder: 'carma-hash-v1',
      dimension: 384,
      roles: null,
    });
    const e5 = load({
      AIOS_CARMA__EMBEDDER__PROVIDER: 'openai',
      AIOS_CARMA__EMBEDDER__BASE_URL: 'http://127.0.0.1:8765/v1',
      AIOS_CARMA__EMBEDDER__MODEL: 'e5-small-v2',
    }).carma.embedder;
    expect(summarizeEmbedderConfig(e5)).toEqual({
      embedder: 'openai:http://127.0.0.1:8765/v1#e5-small-v2',
      dimension: null,
      roles: { query: { prefix: 'query: ' }, document: { prefix: 'passage: ' } },
    });
  });
});
