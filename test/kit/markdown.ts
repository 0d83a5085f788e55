/**
 * Markdown as GitHub renders it, as far as the kit's tests need it: fenced code blocks,
 * and the anchors of headings (GitHub's slugs, repeats numbered) a link's `#...` names.
 */

/** A fence's opening line: up to three spaces of indent (more in list items), then ``` or ~~~ or longer. */
const FENCE = /^\s*(`{3,}|~{3,})/;

/**
 * The Markdown with the lines of its fenced code blocks (fences included) blanked, so
 * nothing in them is read as a heading or a link; a fence left open runs to the end.
 */
export function withoutFencedCode(markdown: string): string {
  let open: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const fence = FENCE.exec(line)?.[1];
      if (open === undefined) {
        if (fence === undefined) return line;
        open = fence;
        return '';
      }
      if (fence !== undefined && fence[0] === open[0] && fence.length >= open.length && line.trim() === fence) {
        open = undefined;
      }
      return '';
    })
    .join('\n');
}

/** Stands for an escaped underscore (`\_`) while emphasis is taken out (a private-use character). */
const ESCAPED_UNDERSCORE = '\uE000';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** The text GitHub shows for a heading's inline Markdown: code spans verbatim, markup gone. */
function headingText(heading: string): string {
  // Code spans keep their text as it is; the rest loses its markup.
  return heading
    .split(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/)
    .map((part, i) => {
      if (i % 3 === 1) return '';
      if (i % 3 === 2) return part;
      return part
        .replaceAll('\\_', ESCAPED_UNDERSCORE) // an escaped underscore stays one
        .replace(/\\([!-/:-@[-`{-~])/g, '$1')
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
        .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1') // reference links
        .replace(/<(https?:[^>\s]+)>/g, '$1') // autolinks
        .replace(/<\/?[A-Za-z][^>]*>/g, '') // inline HTML
        .replace(/(^|[^\p{L}\p{N}_])(__?)(?=\S)(.*?\S)\2(?![\p{L}\p{N}_])/gu, '$1$3') // _emphasis_
        .replace(/[*~]/g, '')
        .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity, name: string) => {
          if (name.startsWith('#')) {
            const code = name[1]?.toLowerCase() === 'x' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
            return String.fromCodePoint(code);
          }
          return ENTITIES[name.toLowerCase()] ?? entity;
        })
        .replaceAll(ESCAPED_UNDERSCORE, '_');
    })
    .join('');
}

/**
 * GitHub's slug of a heading: its text in lower case, every character but letters,
 * marks, numbers, connector punctuation (`_`), spaces and hyphens dropped, spaces to
 * hyphens.
 */
export function githubSlug(heading: string): string {
  return headingText(heading)
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/**
 * The anchors a Markdown file offers: its ATX headings' slugs outside code blocks, a
 * repeated slug numbered -1, -2, … as GitHub does (skipping any that is already taken),
 * and the names and ids of its HTML anchors.
 */
export function anchorsOf(markdown: string): Set<string> {
  const text = withoutFencedCode(markdown);
  const anchors = new Set<string>();
  const repeats = new Map<string, number>();
  for (const [, heading] of text.matchAll(/^ {0,3}#{1,6}(?:[ \t]+(.*?))??(?:[ \t]+#+)?[ \t]*$/gm)) {
    const slug = githubSlug(heading ?? '');
    let anchor = slug;
    while (anchors.has(anchor)) {
      const n = (repeats.get(slug) ?? 0) + 1;
      repeats.set(slug, n);
      anchor = `${slug}-${n}`;
    }
    anchors.add(anchor);
  }
  for (const [, id] of text.matchAll(/<[A-Za-z][^>]*\s(?:name|id)="([^"]+)"/g)) anchors.add(id ?? '');
  return anchors;
}
