import type { RouteModule } from '../context.js';
import { adminRoutes } from './admin.js';
import { askRoutes } from './ask.js';
import { backupRoutes } from './backups.js';
import { complianceRoutes } from './compliance.js';
import { configRoutes } from './config.js';
import { conversationRoutes } from './conversations.js';
import { feedbackRoutes, personalityRoutes } from './feedback.js';
import { ingestRoutes } from './ingest.js';
import { jobRoutes } from './jobs.js';
import { mcpRoutes } from './mcp.js';
import { memoryRoutes } from './memory.js';
import { openAiRoutes } from './openai.js';
import { probeRoutes, systemRoutes } from './system.js';
import { webRoutes } from './web.js';

/**
 * The route table: every module of the API. The authorization matrix test walks the routes
 * these register, so a route added here is tested without anyone remembering to.
 */
export const ROUTE_MODULES: readonly RouteModule[] = [
  systemRoutes,
  adminRoutes,
  jobRoutes,
  openAiRoutes,
  backupRoutes,
  ingestRoutes,
  complianceRoutes,
  configRoutes,
  memoryRoutes,
  askRoutes,
  conversationRoutes,
  feedbackRoutes,
  personalityRoutes,
];

/** Routes outside `/v1`: the probes a supervisor or load balancer calls. */
export const ROOT_MODULES: readonly RouteModule[] = [probeRoutes, mcpRoutes, webRoutes];
