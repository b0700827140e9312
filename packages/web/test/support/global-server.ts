import type { TestProject } from 'vitest/node';
import { chromiumPath } from './browser.js';
import { startLiveServer } from './serve.js';

declare module 'vitest' {
  export interface ProvidedContext {
    aiosUrl: string;
    aiosAdminKey: string;
  }
}

/**
 * One `aios serve` for the browser suites (each works in a tenant of its own, the Admin
 * suite in the default one): a server start is the slow part of a suite.
 */
export default async function setup(project: TestProject) {
  if (!chromiumPath) return undefined;
  const server = await startLiveServer();
  project.provide('aiosUrl', server.url);
  project.provide('aiosAdminKey', server.adminKey);
  return () => server.stop();
}
