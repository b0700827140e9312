/** One server-sent event: its name (`message` when the server gave none) and its data. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Reads server-sent events from a fetch response body as they arrive (tests only): `onEvent`
 * sees each one the moment its blank line comes in, and may return `false` to stop reading
 * (the body is cancelled, as a client that goes away would).
 */
export async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: SseEvent) => boolean | undefined = () => undefined,
): Promise<SseEvent[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  let current: SseEvent = { event: 'message', data: '' };
  let lines: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return events;
      buffer += decoder.decode(value, { stream: true });
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line === '') {
          if (lines.length > 0) {
            current.data = lines.join('\n');
            events.push(current);
            if (onEvent(current) === false) {
              await reader.cancel();
              return events;
            }
          }
          current = { event: 'message', data: '' };
          lines = [];
        } else if (line.startsWith('event:')) {
          current.event = line.slice(6).trim();
        } else if (line.startsWith('data:')) {
          lines.push(line.slice(line.startsWith('data: ') ? 6 : 5));
        }
        newline = buffer.indexOf('\n');
      }
    }
  } finally {
    reader.releaseLock();
  }
}
