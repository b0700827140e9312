import { existsSync } from 'node:fs';
import { openDataStore } from '@aios/data';
import { createAios } from '../../aios.js';
import type { DoctorCheck, DoctorContext, Finding } from '../types.js';

/**
 * CARMA's vector-index labels: each fragment has its own. (Homes written by two processes
 * at once before labels were taken inside the write transaction can hold fragments that
 * share one.) Reading every record of the memory gives the later fragments new labels,
 * each recorded in their history, and indexes them again: that is what `--repair` does.
 */
export const labelsCheck: DoctorCheck = {
  name: 'labels',
  async run(ctx) {
    const path = ctx.config.data.path;
    if (ctx.quick || !existsSync(path)) return [];
    const shared = await sharedLabels(ctx);
    if (shared === undefined) return [];
    if (shared.fragments === 0) {
      return [
        {
          check: 'labels',
          status: 'ok',
          message: `${shared.total} fragments, every label used once`,
        },
      ];
    }
    const found: Finding = {
      check: 'labels',
      status: 'fail',
      message: `${shared.fragments} fragments share ${shared.labels} index labels; --repair gives them labels of their own`,
      details: { labels: shared.labels, fragments: shared.fragments },
    };
    if (!ctx.repair) return [found];
    const aios = await createAios({ config: ctx.config, offline: true });
    try {
      await aios.memory.loadAll(); // a memory opened from its checkpoint repairs them then
    } finally {
      await aios.close();
    }
    const after = await sharedLabels(ctx);
    return after?.fragments === 0
      ? [
          {
            ...found,
            status: 'repaired',
            message: `${shared.fragments} fragments given labels of their own`,
          },
        ]
      : [found];
  },
};

/** How many labels are shared, by how many fragments; undefined when the store cannot be read. */
async function sharedLabels({
  config,
  native,
}: DoctorContext): Promise<{ total: number; labels: number; fragments: number } | undefined> {
  let data: Awaited<ReturnType<typeof openDataStore>>;
  try {
    data = await openDataStore({ path: config.data.path, native, operation: 'aios doctor' });
  } catch {
    return undefined; // the database check reports why
  }
  try {
    const seen = new Map<number, number>();
    let total = 0;
    let after: string | undefined;
    for (;;) {
      const page = await data.fragments.list({ limit: 2000, ...(after ? { after } : {}) });
      for (const f of page) {
        const label = f.attributes.label;
        if (typeof label === 'number') seen.set(label, (seen.get(label) ?? 0) + 1);
      }
      total += page.length;
      if (page.length < 2000) break;
      after = page[page.length - 1]?.id;
    }
    let labels = 0;
    let fragments = 0;
    for (const n of seen.values()) {
      if (n > 1) {
        labels++;
        fragments += n;
      }
    }
    return { total, labels, fragments };
  } finally {
    await data.close();
  }
}
