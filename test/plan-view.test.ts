/**
 * The plan a reviewer approves (views/plan-view.ts), in all three formats: nested objects and arrays get paths,
 * added and removed keys their `+` and `-`, a one-word change inside a big nested field is one line, long strings
 * are shortened unless asked, and the summary counts what changes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChange } from '../views/change-view';
import { PLAN_FORMATS, planView, renderPlan } from '../views/plan-view';
import type { Plan } from '../workflows/change-messages';
import { exampleStatus } from './plan-view-example';

const LONG_PROMPT = `Welcome to Acme. ${'Please listen carefully as our menu options have changed. '.repeat(4)}Goodbye.`;

function plan(baseFields: Record<string, unknown>, payload: Record<string, unknown>): Plan {
  return {
    target: { type: 'ivr', id: 'main-menu' },
    baseVersion: 7,
    baseFields,
    desired: payload,
    replace: false,
    diff: [],
    payload,
    payloadHash: 'a'.repeat(64),
    plannedAt: '2026-11-29T12:00:00.000Z',
  };
}

const base = {
  name: 'Main menu',
  routing: { rules: [{ match: 'sales', queue: 'general' }, { match: 'support', queue: 'tier1' }], fallback: { queue: 'general', timeoutSeconds: 30 } },
  legacyFlag: true,
  prompt: LONG_PROMPT,
  'labels.v1': 'x',
};
const after = {
  name: 'Main menu',
  routing: {
    rules: [{ match: 'sales', queue: 'vip' }, { match: 'support', queue: 'tier1' }, { match: 'billing', queue: 'finance' }],
    fallback: { queue: 'general', timeoutSeconds: 30 },
  },
  prompt: `${LONG_PROMPT} New.`,
  hours: 'Mon-Fri 08:00-18:00',
  'labels.v1': 'y',
};

describe('the plan view', () => {
  const view = planView(plan(base, after));

  it('gives paths into nested objects and arrays, one entry per change', () => {
    expect(view.entries).toEqual([
      { op: 'add', path: 'hours', after: 'Mon-Fri 08:00-18:00' },
      { op: 'change', path: '["labels.v1"]', before: 'x', after: 'y' },
      { op: 'remove', path: 'legacyFlag', before: true },
      { op: 'change', path: 'prompt', before: LONG_PROMPT, after: `${LONG_PROMPT} New.` },
      { op: 'add', path: 'routing.rules[2]', after: { match: 'billing', queue: 'finance' } },
      { op: 'change', path: 'routing.rules[0].queue', before: 'general', after: 'vip' },
    ].sort((a, b) => a.path.localeCompare(b.path, 'en')));
    expect(view.summary).toEqual({ add: 2, change: 3, remove: 1 });
  });

  it('renders text with + / - / ~ markers, a summary line, the base version and the payload hash', () => {
    const text = renderPlan(view, 'text');
    expect(text.split('\n')[0]).toBe(`Plan: 3 to change, 2 to add, 1 to remove.  ivr/main-menu at version 7, payload sha256 ${'a'.repeat(64)}`);
    expect(text).toContain('  ~ routing.rules[0].queue: "general" → "vip"');
    expect(text).toContain('  + routing.rules[2]: {"match":"billing","queue":"finance"}');
    expect(text).toContain('  - legacyFlag: true');
    expect(text).toContain('  + hours: "Mon-Fri 08:00-18:00"');
    // The one-word change inside the nested rules is one short line, not two whole blobs.
    const ruleLine = text.split('\n').find((line) => line.includes('routing.rules[0]'))!;
    expect(ruleLine.length).toBeLessThan(60);
  });

  it('shortens long strings, with a way to see them whole', () => {
    const short = renderPlan(view, 'text');
    const promptLine = short.split('\n').find((line) => line.includes('~ prompt'))!;
    expect(promptLine).toContain('characters; --full shows it whole');
    expect(promptLine.length).toBeLessThan(300);
    expect(renderPlan(view, 'text', { full: true })).toContain(JSON.stringify(`${LONG_PROMPT} New.`));
  });

  it('renders markdown a pull request shows as a coloured diff, each change as its - and + pair', () => {
    const markdown = renderPlan(view, 'markdown');
    expect(markdown.split('\n')[0]).toBe(`**Plan: 3 to change, 2 to add, 1 to remove.** \`ivr/main-menu\` at version 7, payload sha256 \`${'a'.repeat(64)}\``);
    expect(markdown).toContain('```diff\n');
    expect(markdown).toContain('- routing.rules[0].queue: "general"\n+ routing.rules[0].queue: "vip"');
    expect(markdown).not.toContain('~ ');
    expect(markdown.trim().endsWith('```')).toBe(true);
    expect(markdown).not.toContain('<details>');
  });

  it('folds a long plan into a collapsible section in markdown', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`field${String(index).padStart(2, '0')}`, index]));
    const markdown = renderPlan(planView(plan({}, many)), 'markdown');
    expect(markdown).toContain('<details>');
    expect(markdown).toContain('<summary>40 lines — show the plan</summary>');
    expect(markdown).toContain('</details>');
  });

  it('renders json with the same entries and summary', () => {
    const json = JSON.parse(renderPlan(view, 'json'));
    expect(json).toMatchObject({ target: 'ivr/main-menu', baseVersion: 7, summary: { add: 2, change: 3, remove: 1 } });
    expect(json.entries).toEqual(JSON.parse(JSON.stringify(view.entries)));
  });

  const live = (version: number, changedFields: string[] = []) => ({ version, versioned: true, changedFields, checkedAt: '2026-11-29T13:00:00.000Z' });

  it('warns in every human format when a field the plan touches changed on the live object since the plan', () => {
    const moved = planView(plan(base, after), live(9, ['prompt']));
    expect(moved.moved).toEqual({ liveVersion: 9, changedFields: ['prompt'], checkedAt: '2026-11-29T13:00:00.000Z' });
    for (const format of ['text', 'markdown'] as const) {
      const rendered = renderPlan(moved, format);
      expect(rendered).toContain('Warning: prompt changed on ivr/main-menu (now version 9, planned on 7) since this plan');
      expect(rendered).toContain('stale_plan');
      expect(rendered).toContain('Resubmit the change');
    }
    expect(JSON.parse(renderPlan(moved, 'json')).moved).toEqual(moved.moved);
  });

  it('notes a live object that moved only in fields the plan does not touch (the deploy re-merges), and says nothing when it did not move', () => {
    const moved = planView(plan(base, after), live(8));
    expect(renderPlan(moved, 'text')).toContain('Note: ivr/main-menu (now version 8, planned on 7) has moved since this plan, in fields it does not touch');
    expect(renderPlan(moved, 'text')).not.toContain('stale_plan');
    expect(planView(plan(base, after), live(7)).moved).toBeUndefined();
    expect(renderPlan(planView(plan(base, after), live(7)), 'text')).not.toMatch(/Warning|Note/);
  });

  it('shows a type without a version as such, and fences values holding backticks safely in markdown', () => {
    const unversioned = planView({ ...plan({ note: 'a' }, { note: 'has ``` inside' }), baseVersion: 0, versionRule: 'none' });
    expect(renderPlan(unversioned, 'text').split('\n')[0]).toContain('ivr/main-menu as read (no version)');
    const markdown = renderPlan(unversioned, 'markdown');
    expect(markdown).toContain('````diff\n- note: "a"\n+ note: "has ``` inside"\n````');
  });

  it('says plainly when there is nothing to change', () => {
    for (const format of PLAN_FORMATS) expect(renderPlan(planView(plan(base, base)), format)).toMatch(/no changes|"add": 0/);
  });
});

describe('the markdown plan in docs/change-gate.md', () => {
  it('is exactly what `--format markdown` prints for its example change, shown raw and as a pull request renders it', () => {
    const markdown = renderChange(exampleStatus(), 'markdown');
    const page = readFileSync(join(__dirname, '..', 'docs', 'change-gate.md'), 'utf8');
    expect(page).toContain(`\`\`\`\`markdown\n${markdown}\n\`\`\`\`\n`);
    expect(page).toContain(markdown.split('\n').map((line) => (line ? `> ${line}` : '>')).join('\n'));
    expect(markdown).toContain('```diff\n- greeting: "Welcome to Acme"\n+ greeting: "Welcome, now open on Saturdays"\n- menu.options[0].queue: "sales"\n+ menu.options[0].queue: "support"\n```');
  });
});
