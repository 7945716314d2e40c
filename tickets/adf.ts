/**
 * Atlassian Document Format, the only format Jira's REST API v3 takes for an issue's description and a comment's
 * body: small builders that produce valid documents by construction — no empty text node (Jira refuses one), line
 * breaks inside a paragraph as `hardBreak` nodes, the `code` mark only alone (ADF allows it with `link` only), code
 * blocks holding plain text.
 */

export type AdfMark = { type: 'strong' } | { type: 'em' } | { type: 'code' } | { type: 'link'; attrs: { href: string } };
export interface AdfText {
  type: 'text';
  text: string;
  marks?: AdfMark[];
}
export type AdfInline = AdfText | { type: 'hardBreak' };
export interface AdfListItem {
  type: 'listItem';
  content: AdfBlock[];
}
export type AdfBlock =
  | { type: 'paragraph'; content?: AdfInline[] }
  | { type: 'heading'; attrs: { level: 1 | 2 | 3 | 4 | 5 | 6 }; content?: AdfInline[] }
  | { type: 'codeBlock'; attrs?: { language?: string }; content?: AdfText[] }
  | { type: 'bulletList'; content: AdfListItem[] }
  | { type: 'rule' };
export interface AdfDoc {
  type: 'doc';
  version: 1;
  content: AdfBlock[];
}

/** What a paragraph is built from: text, styled text, lists of those, or nothing (skipped). */
export type InlinePart = string | AdfInline | InlinePart[] | undefined | null | false;

function styled(text: string, marks: AdfMark[]): AdfInline[] {
  return text.length === 0 ? [] : [{ type: 'text', text, marks }];
}

export const strong = (text: string): AdfInline[] => styled(text, [{ type: 'strong' }]);
export const emphasis = (text: string): AdfInline[] => styled(text, [{ type: 'em' }]);
export const code = (text: string): AdfInline[] => styled(text, [{ type: 'code' }]);
export const link = (text: string, href: string): AdfInline[] => (href ? styled(text || href, [{ type: 'link', attrs: { href } }]) : plain(text));

/** Plain text; each line break becomes a `hardBreak`. */
export function plain(text: string): AdfInline[] {
  const parts: AdfInline[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (index > 0) parts.push({ type: 'hardBreak' });
    if (line.length > 0) parts.push({ type: 'text', text: line });
  });
  return parts;
}

function inlines(parts: InlinePart[]): AdfInline[] {
  return parts.flatMap((part): AdfInline[] =>
    part === undefined || part === null || part === false ? [] : typeof part === 'string' ? plain(part) : Array.isArray(part) ? inlines(part) : [part],
  );
}

export function paragraph(...parts: InlinePart[]): AdfBlock {
  const content = inlines(parts);
  return content.length > 0 ? { type: 'paragraph', content } : { type: 'paragraph' };
}

export function heading(level: 1 | 2 | 3 | 4 | 5 | 6, ...parts: InlinePart[]): AdfBlock {
  const content = inlines(parts);
  return content.length > 0 ? { type: 'heading', attrs: { level }, content } : { type: 'heading', attrs: { level } };
}

export function codeBlock(text: string, language?: string): AdfBlock {
  return {
    type: 'codeBlock',
    ...(language ? { attrs: { language } } : {}),
    ...(text.length > 0 ? { content: [{ type: 'text', text }] } : {}),
  };
}

/** A bullet list; each item is one paragraph. Empty items are left out (a list needs items, an item content). */
export function bulletList(items: InlinePart[][]): AdfBlock | undefined {
  const content = items.map((item) => inlines(item)).filter((item) => item.length > 0).map((item): AdfListItem => ({ type: 'listItem', content: [{ type: 'paragraph', content: item }] }));
  return content.length > 0 ? { type: 'bulletList', content } : undefined;
}

export const rule = (): AdfBlock => ({ type: 'rule' });

export function doc(...blocks: Array<AdfBlock | undefined | false>): AdfDoc {
  return { type: 'doc', version: 1, content: blocks.filter((block): block is AdfBlock => !!block) };
}

/** The document's text (logs and tests). */
export function adfToText(document: AdfDoc): string {
  const inline = (content?: AdfInline[]) => (content ?? []).map((node) => (node.type === 'hardBreak' ? '\n' : node.text)).join('');
  const block = (node: AdfBlock): string[] => {
    if (node.type === 'bulletList') return node.content.flatMap((item) => item.content.flatMap(block).map((line) => `- ${line}`));
    if (node.type === 'rule') return ['---'];
    if (node.type === 'codeBlock') return [(node.content ?? []).map((text) => text.text).join('')];
    return [inline(node.content)];
  };
  return document.content.flatMap(block).join('\n');
}
