import type { FastifyRequest } from 'fastify';

/**
 * DNS-rebinding protection of `/mcp`: a web page on another site must not reach the MCP
 * server through a name that resolves to this machine. The Host header (and the Origin
 * header, when a browser sends one) must name loopback, the address the request came in on
 * (a client that dialled the IP), or one of `server.allowedHosts`.
 */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]', '::1'];

/** The host name of a Host header value or an origin URL (no port), lower-case; null if unreadable. */
function hostnameOf(value: string, isOrigin: boolean): string | null {
  try {
    return new URL(isOrigin ? value : `http://${value}`).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** Why the request is refused, or null when its Host and Origin are allowed. */
export function rebindingRefusal(
  request: FastifyRequest,
  allowedHosts: readonly string[],
): string | null {
  const local = request.socket.localAddress?.replace(/^::ffff:/, '');
  const allowed = new Set(
    [...LOOPBACK, ...allowedHosts.map((h) => h.toLowerCase())].concat(
      local ? [local, `[${local}]`] : [],
    ),
  );
  const host = request.headers.host;
  const hostName = typeof host === 'string' ? hostnameOf(host, false) : null;
  if (!hostName || !allowed.has(hostName)) {
    return `the Host header ${JSON.stringify(host ?? null)} is not a name of this server (server.allowedHosts)`;
  }
  const origin = request.headers.origin;
  if (typeof origin === 'string') {
    const originName = hostnameOf(origin, true);
    if (!originName || !allowed.has(originName)) {
      return `the Origin ${JSON.stringify(origin)} is not this server (server.allowedHosts)`;
    }
  }
  return null;
}
