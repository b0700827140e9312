// A client of the V8 inspector protocol of a process started with `--inspect=127.0.0.1:<port>`:
// enough to force a garbage collection, read the heap left after it and take a heap snapshot.
// Node 20 has WebSocket only behind `--experimental-websocket` (the soak's entry re-runs
// itself with it); later versions have it always.

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export interface Inspector {
  /** Heap in use (bytes) after a full garbage collection. */
  heapAfterGc(): Promise<number>;
  /** Memory outside the V8 heap that V8 knows of (Buffers, ArrayBuffers), in bytes. */
  externalBytes(): Promise<number>;
  /** A heap snapshot (taken after a full collection, as V8 always does), as its JSON text. */
  heapSnapshot(): Promise<string>;
  close(): void;
}

/** Connects to the inspector listening on `127.0.0.1:port` (its one target). */
export async function connectInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
    webSocketDebuggerUrl: string;
  }>;
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener('open', () => resolve(), { once: true });
    socket.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), {
      once: true,
    });
  });
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let chunks: string[] = [];
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as {
      id?: number;
      method?: string;
      params?: { chunk?: string };
      result?: unknown;
      error?: { message: string };
    };
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk') {
      chunks.push(message.params?.chunk ?? '');
      return;
    }
    if (message.id === undefined) return;
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) waiting?.reject(new Error(message.error.message));
    else waiting?.resolve(message.result);
  });
  const send = <T>(method: string, params: Record<string, unknown> = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return {
    async heapAfterGc() {
      await send('HeapProfiler.collectGarbage');
      const usage = await send<{ usedSize: number }>('Runtime.getHeapUsage');
      return usage.usedSize;
    },
    async externalBytes() {
      const { result } = await send<{ result: { value: number } }>('Runtime.evaluate', {
        expression: 'process.memoryUsage().external',
        returnByValue: true,
      });
      return result.value;
    },
    async heapSnapshot() {
      chunks = [];
      await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
      const text = chunks.join('');
      chunks = [];
      return text;
    },
    close: () => socket.close(),
  };
}
