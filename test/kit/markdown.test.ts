/**
 * The Markdown reading the link and runbook checks rely on (test/kit/markdown.ts):
 * heading anchors as GitHub makes them, and nothing read inside fenced code.
 */

import { describe, expect, it } from 'vitest';
import { anchorsOf, githubSlug, withoutFencedCode } from './markdown.ts';

describe('githubSlug', () => {
  it.each([
    ["The local infra's `SASL_SSL` listener", 'the-local-infras-sasl_ssl-listener'],
    ['One process, no Kafka: `npm start`', 'one-process-no-kafka-npm-start'],
    ['ChurnServiceDown', 'churnservicedown'],
    ['Alerts and runbooks', 'alerts-and-runbooks'],
    ['See [the chart](deploy/helm/README.md) *now*', 'see-the-chart-now'],
    ['_Emphasis_ and snake_case and `a_b`', 'emphasis-and-snake_case-and-a_b'],
    ['\\_not emphasis\\_', '_not-emphasis_'],
    ['Tom &amp; Jerry <sup>2</sup>', 'tom--jerry-2'],
    ['Ünïcode stays, 3.0 loses its dot', 'ünïcode-stays-30-loses-its-dot'],
  ])('%s → %s', (heading, slug) => {
    expect(githubSlug(heading)).toBe(slug);
  });
});

describe('anchorsOf', () => {
  it('reads ATX headings outside fenced code, closing #s dropped, repeats numbered', () => {
    const markdown = [
      '# Operations',
      '## Alerts and runbooks ##',
      '### ChurnServiceDown',
      '```sh',
      '# not a heading',
      '```',
      '~~~~',
      '## nor this',
      '```',
      '~~~~',
      '## Alerts and runbooks',
      '#not-a-heading',
      '## C#',
    ].join('\n');
    expect([...anchorsOf(markdown)]).toEqual([
      'operations',
      'alerts-and-runbooks',
      'churnservicedown',
      'alerts-and-runbooks-1',
      'c',
    ]);
  });

  it('numbers a repeat past an anchor a heading already has, as GitHub does', () => {
    expect([...anchorsOf('# a\n# a-1\n# a\n# a')]).toEqual(['a', 'a-1', 'a-2', 'a-3']);
  });

  it('offers the names and ids of HTML anchors', () => {
    expect(anchorsOf('<a name="top"></a>\n<span id="here">x</span>')).toEqual(new Set(['top', 'here']));
  });

  it('blanks fenced code, an unclosed fence to the end, and keeps the lines', () => {
    expect(withoutFencedCode('a\n```\nb\n```\nc\n````\nd\n```\ne')).toBe('a\n\n\n\nc\n\n\n\n');
  });
});
