// The SSE reader lives with the HTTP helper in @aios/utils; re-exported for Luna's API.
export { parseSse } from '@aios/utils';
