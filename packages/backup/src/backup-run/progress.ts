import type { BackupProgress } from '../types.js';

/**
 * The progress of one backup: totals from the scan, then files and bytes done, with the
 * rate and time left measured from the start of the backup phase.
 */
export class ProgressReporter {
  private readonly state: BackupProgress = {
    phase: 'scan',
    filesDone: 0,
    filesTotal: 0,
    bytesDone: 0,
    bytesTotal: 0,
    bytesPerSecond: 0,
    etaSeconds: null,
  };
  private started = 0;
  private bytesAtStart = 0;

  constructor(private readonly onProgress?: (progress: BackupProgress) => void) {}

  /** A file found by the scan. */
  add(bytes: number): void {
    this.state.filesTotal++;
    this.state.bytesTotal += bytes;
  }

  /** A file stored (or reused unread). */
  fileDone(bytes: number): void {
    this.state.filesDone++;
    this.state.bytesDone += bytes;
  }

  /**
   * Bytes of a streamed entry (a dump) stored: its size is known only once it ends, so the
   * total grows with what is done and done never passes it.
   */
  streamed(bytes: number): void {
    this.state.bytesTotal += bytes;
    this.state.bytesDone += bytes;
  }

  /** Reports the scan's totals and starts the backup phase (files reused unread are done). */
  scanned(): void {
    this.onProgress?.({ ...this.state });
    this.state.phase = 'backup';
    this.started = Date.now();
    this.bytesAtStart = this.state.bytesDone;
  }

  report(currentPath?: string): void {
    const p = this.state;
    const secs = (Date.now() - this.started) / 1000;
    const done = p.bytesDone - this.bytesAtStart;
    p.bytesPerSecond = secs > 0 ? done / secs : 0;
    const left = p.bytesTotal - p.bytesDone;
    p.etaSeconds = p.bytesPerSecond > 0 ? left / p.bytesPerSecond : left === 0 ? 0 : null;
    this.onProgress?.({ ...p, ...(currentPath ? { currentPath } : {}) });
  }

  done(): void {
    this.state.phase = 'done';
    this.report();
  }
}
