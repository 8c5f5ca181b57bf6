import fs from 'node:fs';
import readline from 'node:readline';
import { isoTime } from '../time/index.js';
import type { EventRow, EventStore, ExportQuery } from '../storage/events/event-store.js';
import type { IngestService } from './service.js';

export interface ImportSummary {
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: { line: number; field: string; message: string }[];
}

/** Lines per ingest call; the same size as a full Segment batch would be wasteful here. */
const CHUNK = 1000;

/** What these routes use: their own services and the few they name. */
export interface ImportExportDeps {
  events: EventStore;
  ingest: IngestService;
  flush(): Promise<void>;
}

/**
 * Imports a file of Segment-format messages, one JSON object a line, through the same steps as the
 * HTTP API (validation, enrichment, dedup, durable write). Bad lines are reported, never fatal.
 */
export async function importNdjson(
  deps: ImportExportDeps,
  projectId: number,
  file: string,
  onProgress?: (bytes: number) => void,
): Promise<ImportSummary> {
  const summary: ImportSummary = { lines: 0, accepted: 0, duplicates: 0, rejected: [] };
  const input = fs.createReadStream(file);
  let bytes = 0;
  input.on('data', (chunk) => onProgress?.((bytes += chunk.length)));
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let chunk: unknown[] = [];
  let lineNumbers: number[] = [];
  const send = async () => {
    const result = await deps.ingest.ingest(projectId, chunk, undefined, {}, { receivedAt: Date.now(), ip: '' });
    summary.accepted += result.accepted;
    summary.duplicates += result.duplicates;
    for (const r of result.rejected) summary.rejected.push({ line: lineNumbers[r.index], field: r.field, message: r.message });
    chunk = [];
    lineNumbers = [];
  };
  for await (const line of lines) {
    summary.lines++;
    if (!line.trim()) continue;
    try {
      chunk.push(JSON.parse(line));
      lineNumbers.push(summary.lines);
    } catch (err) {
      summary.rejected.push({ line: summary.lines, field: '', message: `not valid JSON: ${(err as Error).message}` });
    }
    if (chunk.length >= CHUNK) await send();
  }
  if (chunk.length) await send();
  await deps.flush();
  // unparseable lines are found while reading, invalid events when their chunk is sent
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}

/** A stored event as a Segment message, so an export can be imported again. */
export function toSegmentMessage(r: EventRow): Record<string, unknown> {
  const m: Record<string, unknown> = {
    type: r.type,
    messageId: r.message_id,
    timestamp: isoTime(r.timestamp),
    receivedAt: isoTime(r.received_at),
    context: r.context,
  };
  if (r.user_id) m.userId = r.user_id;
  if (r.anonymous_id) m.anonymousId = r.anonymous_id;
  // ingest folded these call fields into the stored properties (see enrich.ts); each call type
  // takes back only its own field, so a property of the same name in another call type stays
  const { name, ...withoutName } = r.properties as Record<string, unknown>;
  const { groupId, ...withoutGroupId } = r.properties as Record<string, unknown>;
  switch (r.type) {
    case 'track':
      m.event = r.event;
      m.properties = r.properties;
      break;
    case 'page':
    case 'screen':
      if (name !== undefined) m.name = name;
      m.properties = withoutName;
      break;
    case 'identify':
      m.traits = r.properties;
      break;
    case 'group':
      m.groupId = groupId;
      m.traits = withoutGroupId;
      break;
    case 'alias':
      m.previousId = (r.properties as Record<string, unknown>).previousId;
      break;
  }
  return m;
}

/**
 * The export as NDJSON text, one chunk per batch the store streams (never the whole export in
 * memory): what `vigil export` writes and GET /api/projects/:slug/export sends, byte for byte.
 */
export async function* exportChunks(events: EventStore, q: ExportQuery): AsyncGenerator<{ text: string; events: number }> {
  for await (const rows of events.exportEvents(q)) {
    if (rows.length) yield { text: rows.map((r) => JSON.stringify(toSegmentMessage(r))).join('\n') + '\n', events: rows.length };
  }
}

export async function exportNdjson(deps: ImportExportDeps, q: ExportQuery, out: NodeJS.WritableStream): Promise<number> {
  let count = 0;
  for await (const chunk of exportChunks(deps.events, q)) {
    count += chunk.events;
    if (!out.write(chunk.text)) await new Promise((r) => out.once('drain', r));
  }
  return count;
}
