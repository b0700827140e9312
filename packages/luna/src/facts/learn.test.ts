/**
 * Facts learnt from conversations, on the real cores (CARMA and the SQLite store, both
 * implementations), with a scripted model: a loopback server speaking the OpenAI chat API
 * that answers the question, then the extraction with the changes the test scripts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@aios/utils';
import { testImplementations } from '@aios/utils/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from '../llm/client.js';
import { type OpenedLuna, openLuna } from '../open.js';
import { HOUSEHOLD, householdNotes } from '../testing/household.js';
import { useChatServer } from '../testing/use-chat-server.js';
import { EXTRACTION_PROMPT, parseChanges, statesSomething } from './learn.js';

const server = useChatServer();

const changes = (list: unknown[]) => ({
  kind: 'ok' as const,
  content: JSON.stringify({ changes: list }),
});
const extractionRequests = () =>
  server.requests.filter((r) => r.body.messages?.[0]?.content === EXTRACTION_PROMPT);

describe('statesSomething and parseChanges', () => {
  it('learns from statements, not from questions alone', () => {
    expect(statesSomething("Maya's check-up moved to 10 June.")).toBe(true);
    expect(statesSomething('We moved it. When is the next one?')).toBe(true);
    expect(statesSomething('And where? Ok.')).toBe(false);
    // A question typed without its question mark is still a question.
    expect(statesSomething('who is allergic to cats')).toBe(false);
    expect(statesSomething('and how old is she')).toBe(false);
    expect(statesSomething('Tom is allergic to wasps')).toBe(true);
    expect(statesSomething('When is the next check-up?')).toBe(false);
  });

  it('keeps only well-formed changes on facts it was shown, and never edits a note', () => {
    const related = [
      { id: 'note', text: 'The check-up is on 3 June.', score: 1, metadata: { kind: 'markdown' } },
      { id: 'fact', text: 'Tom likes tea.', score: 1, metadata: { kind: 'fact' } },
    ];
    const reply = `Sure!\n\`\`\`json\n${JSON.stringify({
      changes: [
        { op: 'add', text: 'Anna runs on Saturdays.' },
        { op: 'update', id: 'M1', text: 'The check-up is on 10 June.' },
        { op: 'update', id: 'M2', text: 'Tom likes coffee.', reason: 'changed' },
        { op: 'retire', id: 'M1' },
        { op: 'retire', id: 'M9' },
        { op: 'delete', id: 'M2' },
        { op: 'add', text: '' },
      ],
    })}\n\`\`\``;
    expect(parseChanges(reply, related)).toEqual([
      { op: 'add', text: 'Anna runs on Saturdays.' },
      { op: 'add', text: 'The check-up is on 10 June.' },
      { op: 'update', target: related[1], text: 'Tom likes coffee.', reason: 'changed' },
    ]);
    expect(() => parseChanges('no JSON here', related)).toThrow(
      expect.objectContaining({ code: 'LLM_BAD_RESPONSE' }),
    );
  });
});

describe.each(testImplementations())('learning facts from conversations (%s)', (impl) => {
  let dir: string;
  let luna: OpenedLuna;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'luna-facts-'));
    const { config } = loadConfig({
      cwd: dir,
      env: { AIOS_HOME: dir },
      overrides: { native: impl },
    });
    luna = await openLuna({
      config,
      llm: new ChatClient({ baseUrl: server.baseUrl, model: 'test-model', maxRetries: 0 }),
    });
    await luna.carma.addMany(householdNotes().map((n) => ({ ...n, namespace: 'documents' })));
  });
  afterEach(async () => {
    await luna.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a fact with its conversation, shows the contradiction with a note, and undoes it', async () => {
    server.queue.push(
      { kind: 'ok', content: 'Noted: the check-up is now on 10 June.' },
      changes([{ op: 'add', text: "Maya's next dental check-up moved to 10 June." }]),
    );
    const answer = await luna.ask("Maya's next dental check-up moved to 10 June.");
    expect(answer.learned?.error).toBeUndefined();
    // The model was shown the related memories, the dentist's note among them.
    const sent = extractionRequests()[0]?.body.messages?.[1]?.content ?? '';
    expect(sent).toMatch(/M\d \(note\): # Dentist/);
    expect(sent).toContain("USER: Maya's next dental check-up moved to 10 June.");

    const [added] = answer.learned?.changes ?? [];
    expect(added).toMatchObject({
      op: 'add',
      after: "Maya's next dental check-up moved to 10 June.",
      conversationId: answer.conversationId,
      exchangeId: answer.id,
      undone: false,
    });
    const fact = await luna.carma.get(added?.fragmentId as string);
    expect(fact?.metadata).toMatchObject({
      kind: 'fact',
      conversationId: answer.conversationId,
      exchangeId: answer.id,
    });
    // The note says 3 June, the fact 10 June: shown, the note untouched.
    expect(answer.learned?.conflicts).toEqual([
      expect.objectContaining({
        a: expect.objectContaining({
          metadata: expect.objectContaining({ source: join(HOUSEHOLD, 'dentist.md') }),
        }),
        b: expect.objectContaining({ fragmentId: added?.fragmentId, values: ['10', 'june'] }),
      }),
    ]);
    expect(await luna.memoryChanges()).toEqual([added]);

    // Ask again: the fact is what memory now says.
    const later = await luna.ask('When is the dental check-up?');
    expect(later.sources.map((s) => s.id)).toContain(added?.fragmentId);
    expect(extractionRequests()).toHaveLength(1); // a question alone teaches nothing

    const undone = await luna.undoMemoryChange();
    expect(undone).toMatchObject({ id: added?.id, undone: true });
    expect(await luna.carma.get(added?.fragmentId as string)).toBeUndefined();
    expect((await luna.carma.history(added?.fragmentId as string)).map((h) => h.kind)).toEqual([
      'add',
      'delete',
    ]);
    await expect(luna.undoMemoryChange(added?.id)).rejects.toMatchObject({
      code: 'LUNA_ALREADY_UNDONE',
    });
    await expect(luna.undoMemoryChange()).rejects.toMatchObject({ code: 'LUNA_NOTHING_TO_UNDO' });
  });

  it('updates and retires its own facts, with the source conversation in the history; undo restores them', async () => {
    server.queue.push(
      { kind: 'ok', content: 'Got it.' },
      changes([{ op: 'add', text: 'Tom drinks green tea every morning.' }]),
    );
    const first = await luna.ask('Tom drinks green tea every morning.');
    const factId = first.learned?.changes[0]?.fragmentId as string;

    server.queue.push(
      { kind: 'ok', content: 'Understood.' },
      // The fact is among the memories shown: find its label in the request.
    );
    const label = () => {
      const content = extractionRequests().at(-1)?.body.messages?.[1]?.content ?? '';
      return /(M\d+) \(learnt fact\): Tom drinks green tea/.exec(content)?.[1];
    };
    // The server answers the extraction with what the test decides once it sees the labels:
    // a first ask shows them, a scripted update follows in the next exchange.
    server.queue.push(changes([]));
    const second = await luna.ask('Tom switched from green tea to coffee.');
    expect(second.learned?.changes).toEqual([]);
    const m = label();
    expect(m).toBeDefined();

    server.queue.push(
      { kind: 'ok', content: 'Understood.' },
      changes([
        { op: 'update', id: m, text: 'Tom drinks coffee every morning.', reason: 'switched' },
      ]),
    );
    const updated = await luna.ask('Tom switched from green tea to coffee.');
    const update = updated.learned?.changes[0];
    expect(update).toMatchObject({
      op: 'update',
      fragmentId: factId,
      before: 'Tom drinks green tea every morning.',
      after: 'Tom drinks coffee every morning.',
      reason: 'switched',
      conversationId: updated.conversationId,
    });
    expect((await luna.carma.get(factId))?.text).toBe('Tom drinks coffee every morning.');
    const history = await luna.carma.history(factId);
    expect(history.map((h) => h.kind)).toEqual(['add', 'update']);
    expect(history[1]?.metadata).toMatchObject({
      conversationId: updated.conversationId,
      exchangeId: updated.id,
    });

    server.queue.push(
      { kind: 'ok', content: 'Sorry to hear.' },
      changes([{ op: 'retire', id: label(), reason: 'stopped' }]),
    );
    const retired = await luna.ask('Tom stopped drinking coffee altogether.');
    const retire = retired.learned?.changes[0];
    expect(retire).toMatchObject({
      op: 'retire',
      fragmentId: factId,
      before: 'Tom drinks coffee every morning.',
    });
    expect(await luna.carma.get(factId)).toBeUndefined();
    const afterRetire = await luna.carma.history(factId);
    expect(afterRetire.map((h) => h.kind)).toEqual(['add', 'update', 'update', 'delete']);
    expect(afterRetire[2]?.metadata).toMatchObject({
      retiredBy: retired.id,
      retiredIn: retired.conversationId,
    });

    // Undo, newest first: the retired fact comes back, then its old text.
    const back = await luna.undoMemoryChange();
    expect(back.op).toBe('retire');
    expect((await luna.carma.get(back.restoredAs as string))?.text).toBe(
      'Tom drinks coffee every morning.',
    );
    // The update is undone on the fact as it was brought back.
    const reverted = await luna.undoMemoryChange(update?.id);
    expect(reverted.op).toBe('update');
    expect((await luna.carma.get(back.restoredAs as string))?.text).toBe(
      'Tom drinks green tea every morning.',
    );
    expect((await luna.memoryChanges()).map((c) => [c.op, c.undone])).toEqual([
      ['add', false],
      ['update', true],
      ['retire', true],
    ]);
  });

  it('keeps the answer when learning fails, and says why', async () => {
    server.queue.push({ kind: 'ok', content: 'Noted.' }, { kind: 'ok', content: 'not JSON' });
    const answer = await luna.ask('The piano tuner comes on 5 May.');
    expect(answer.answer).toBe('Noted.');
    expect(answer.learned).toEqual({
      changes: [],
      conflicts: [],
      error: expect.stringMatching(/^LLM_BAD_RESPONSE: /),
    });
    expect(await luna.memoryChanges()).toEqual([]);
  });

  it('keeps no memory of a question memory could not answer, so it stays unanswered', async () => {
    server.queue.push({ kind: 'ok', content: "I don't know Tom's shoe size." });
    const first = await luna.ask("What is Tom's shoe size?");
    expect(first.grounded).toBe(false);
    expect(await luna.carma.list({ filter: { exchangeId: first.id } })).toEqual([]);
    server.queue.push({ kind: 'ok', content: 'Still no idea.' });
    const again = await luna.ask("What is Tom's shoe size?");
    expect(again.grounded).toBe(false);
    // A question memory answers is kept, as before.
    const cats = await luna.ask('Who is allergic to cats?');
    expect(cats.grounded).toBe(true);
    expect(await luna.carma.list({ filter: { exchangeId: cats.id } })).toHaveLength(1);
  });

  it('keeps no fact when its record cannot be written: memory and log change together', async () => {
    const facts = () => luna.carma.list({ filter: { kind: 'fact' } });
    const save = vi
      .spyOn(luna.data.personality, 'save')
      .mockRejectedValueOnce(new Error('disk full'));
    server.queue.push(
      { kind: 'ok', content: 'Noted.' },
      changes([{ op: 'add', text: 'The piano tuner comes on 5 May.' }]),
    );
    const answer = await luna.ask('The piano tuner comes on 5 May.');
    save.mockRestore();
    expect(answer.answer).toBe('Noted.');
    expect(answer.learned?.error).toMatch(/disk full/);
    expect(await facts()).toEqual([]);
    expect(await luna.memoryChanges()).toEqual([]);
    expect(
      (await luna.carma.search('piano tuner', { k: 5 })).map((r) => r.fragment.metadata.kind),
    ).not.toContain('fact');
  });

  it('learns nothing offline, or when told not to', async () => {
    const offline = await openLuna({
      config: loadConfig({
        cwd: dir,
        env: { AIOS_HOME: join(dir, 'other') },
        overrides: { native: impl },
      }).config,
      llm: null,
    });
    const answer = await offline.ask('The piano tuner comes on 5 May.');
    expect(answer.learned).toBeUndefined();
    await offline.close();
    expect(extractionRequests()).toEqual([]);
  });
});
