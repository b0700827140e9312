import { Type } from 'typebox';
import { JsonObject } from './common.js';

export const JobStatusSchema = Type.Union([
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('cancelled'),
]);

/** A job as every route that starts or reads one answers it. */
export const JobSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.String({ description: 'ingest, consolidate, backup.create, backup.verify...' }),
    status: JobStatusSchema,
    progress: Type.Union([
      Type.Object({
        done: Type.Number(),
        total: Type.Union([Type.Number(), Type.Null()]),
        unit: Type.String(),
        message: Type.Optional(Type.String()),
      }),
      Type.Null(),
    ]),
    result: Type.Unknown({ description: 'What the job returned, once it succeeded' }),
    error: Type.Union([
      Type.Object({ code: Type.String(), message: Type.String(), details: JsonObject }),
      Type.Null(),
    ]),
    createdAt: Type.String({ format: 'date-time' }),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'Job' },
);

export const JobListQuery = Type.Object({
  status: Type.Optional(JobStatusSchema),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
});

export const JobList = Type.Object({ items: Type.Array(JobSchema) });

/** One server-sent event of a followed job (OpenAPI 3.1: the schema of each event). */
export const JobEvent = Type.Object({
  event: Type.Union([Type.Literal('job'), Type.Literal('end')], {
    description: '`job` on every change while it runs, `end` once with its final state',
  }),
  data: Type.String({ contentMediaType: 'application/json', contentSchema: JobSchema }),
});
