import type { Aios } from '@aios/core';
import { isAiosError } from '@aios/utils';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Scope } from '../auth/keys.js';

/**
 * How the MCP server reaches the system and what it may do: over stdio (`aios mcp`) the
 * home's own system with every tool; over HTTP (`/mcp` on `aios serve`) the caller's
 * tenant, each tool allowed by the key's scopes, writes audited and model calls budgeted.
 */
export interface McpAccess {
  /** The system the tools work on. */
  system(): Promise<Aios>;
  /** Throws (an AiosError) when the caller may not use a tool that needs `scope`. */
  authorize(scope: Scope): void;
  /** Runs before Luna may ask a language model (a tenant's token budget). */
  beforeModelCall?(system: Aios): Promise<void>;
  /**
   * A tool that changes the memory ran: its `outcome` on `target` (a fragment id), and the
   * error code when it did not succeed.
   */
  changed?(
    action: string,
    target: string | null,
    outcome: 'ok' | 'refused' | 'failed',
    code?: string,
  ): void;
}

/** A tool's answer: its structured content, and the same as JSON text for older clients. */
export function toolResult(structured: Record<string, unknown>): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(structured) }],
    structuredContent: structured,
  };
}

/** A refusal or failure as an error result (the session goes on): `CODE: message`. */
export function toolError(error: unknown): CallToolResult {
  const text = isAiosError(error)
    ? `${error.code}: ${error.message}`
    : `INTERNAL: ${error instanceof Error ? error.message : String(error)}`;
  return { content: [{ type: 'text', text }], isError: true };
}
