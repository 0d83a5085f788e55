/**
 * docs/asyncapi.html: a self-contained page over the AsyncAPI document (asyncapi.ts
 * builds both): the channels with their direction, key, partitions, cleanup policy and
 * whether they are internal, the dead-letter headers, and every record's fields.
 */

type Doc = Record<string, unknown>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
/** Field attributes shown as constraints. */
const CONSTRAINTS = ['format', 'minLength', 'maxLength', 'minimum', 'maximum', 'pattern'];

function esc(text: unknown): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escaped text with `code` spans. */
function inline(text: unknown): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

/** Paragraphs and `- ` lists of a description. */
function prose(text: unknown): string {
  if (typeof text !== 'string') return '';
  const out: string[] = [];
  let list: string[] | null = null;
  let para: string[] = [];
  const flush = () => {
    if (para.length > 0) out.push(`<p>${inline(para.join(' '))}</p>`);
    para = [];
    if (list) out.push(`<ul>${list.map((item) => `<li>${inline(item)}</li>`).join('')}</ul>`);
    list = null;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('- ')) {
      if (para.length > 0) flush();
      list ??= [];
      list.push(line.slice(2));
    } else if (line.startsWith('  ') && list) {
      list[list.length - 1] += ` ${line.trim()}`;
    } else if (line.trim() === '') {
      flush();
    } else {
      if (list) flush();
      para.push(line);
    }
  }
  flush();
  return out.join('\n');
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** How the channel table names a key. */
const KEY_LABELS: Readonly<Record<string, string>> = {
  customerId: 'customerId',
  customerIdOrReason: 'customerId, or the reason when none',
  reason: 'cancellation reason',
  learning: '<code>learning</code>',
};

const typeAnchor = (name: string) => `type-${shortName(name)}`;
const channelAnchor = (id: string) => `channel-${id}`;

/** Every named type defined in the schemas (records and enums), by short name, first definition first. */
function namedTypes(schemas: readonly JsonObject[]): Map<string, JsonObject> {
  const found = new Map<string, JsonObject>();
  const walk = (node: Json): void => {
    if (Array.isArray(node)) {
      for (const branch of node) walk(branch);
      return;
    }
    if (!isObject(node)) return;
    const { type } = node;
    if ((type === 'record' || type === 'enum' || type === 'fixed') && typeof node.name === 'string') {
      if (!found.has(shortName(node.name))) found.set(shortName(node.name), node);
      if (type === 'record') for (const field of (node.fields as JsonObject[]) ?? []) walk(field.type as Json);
      return;
    }
    if (type === 'array') walk(node.items as Json);
    else if (type === 'map') walk(node.values as Json);
    else if (!(typeof type === 'string' && PRIMITIVES.has(type))) walk(type as Json);
  };
  for (const schema of schemas) walk(schema);
  return found;
}

function typeHtml(node: Json): string {
  if (typeof node === 'string') {
    return PRIMITIVES.has(node) ? esc(node) : `<a href="#${typeAnchor(node)}">${esc(shortName(node))}</a>`;
  }
  if (Array.isArray(node)) return node.map(typeHtml).join(' | ');
  if (!isObject(node)) return esc(JSON.stringify(node));
  const { type } = node;
  if ((type === 'record' || type === 'enum' || type === 'fixed') && typeof node.name === 'string') {
    return `<a href="#${typeAnchor(node.name)}">${esc(shortName(node.name))}</a>`;
  }
  if (type === 'array') return `array&lt;${typeHtml(node.items as Json)}&gt;`;
  if (type === 'map') return `map&lt;${typeHtml(node.values as Json)}&gt;`;
  const logical = typeof node.logicalType === 'string' ? ` (${esc(node.logicalType)})` : '';
  return `${typeHtml(type as Json)}${logical}`;
}

function notesHtml(field: JsonObject): string {
  const notes: string[] = [];
  if (typeof field.doc === 'string') notes.push(inline(field.doc));
  const constraints = CONSTRAINTS.filter((c) => field[c] !== undefined).map(
    (c) => `${c} ${esc(JSON.stringify(field[c]))}`,
  );
  if (constraints.length > 0) notes.push(`<span class="muted">${constraints.join(', ')}</span>`);
  if (field.pii === true) notes.push('<span class="badge pii">personal data</span>');
  return notes.join('<br>');
}

/** A channel a record travels on: its id and its topic. */
interface ChannelUse {
  readonly id: string;
  readonly address: unknown;
}

function recordHtml(name: string, def: JsonObject, usedBy: readonly ChannelUse[], examples: readonly Json[]): string {
  const rows = ((def.fields as JsonObject[]) ?? [])
    .map(
      (f) =>
        `<tr id="${typeAnchor(name)}-${esc(f.name)}"><td><code>${esc(f.name)}</code></td><td>${typeHtml(f.type as Json)}</td>` +
        `<td>${f.default === undefined ? '' : `<code>${esc(JSON.stringify(f.default))}</code>`}</td><td>${notesHtml(f)}</td></tr>`,
    )
    .join('\n');
  const used =
    usedBy.length > 0
      ? `<p class="muted">On ${usedBy.map((u) => `<a href="#${channelAnchor(u.id)}">${esc(u.address)}</a>`).join(', ')}</p>`
      : '';
  const example =
    examples.length > 0
      ? `<details><summary>Example${examples.length > 1 ? 's' : ''}</summary>${examples
          .map((e) => `<pre>${esc(JSON.stringify(e, null, 2))}</pre>`)
          .join('')}</details>`
      : '';
  return (
    `<section class="record" id="${typeAnchor(name)}"><h3>${esc(name)}</h3>` +
    `${def.doc ? `<p>${inline(def.doc)}</p>` : ''}${used}` +
    '<table class="fields"><colgroup><col style="width:18%"><col style="width:24%"><col style="width:12%"><col></colgroup>' +
    `<thead><tr><th>field</th><th>type</th><th>default</th><th>notes</th></tr></thead><tbody>\n${rows}\n</tbody></table>` +
    `${example}</section>`
  );
}

function enumsHtml(enums: readonly [string, JsonObject][]): string {
  const rows = enums
    .map(
      ([name, def]) =>
        `<tr id="${typeAnchor(name)}"><td><code>${esc(name)}</code></td><td>${((def.symbols as string[]) ?? [])
          .map((s) => `<code>${esc(s)}</code>`)
          .join(' ')}</td><td>${def.default === undefined ? '' : `<code>${esc(def.default)}</code>`}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>enum</th><th>symbols</th><th>default</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#fff}
main{max-width:1200px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
h3{font-size:16px;margin:24px 0 6px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid #dde2ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f9;font-weight:600}
tbody tr:nth-child(even){background:#fafbfd}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f5f9;padding:0 3px;border-radius:3px}
td code{white-space:nowrap}
pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:8px;overflow:auto;border:1px solid #e3e7ee}
a{color:#1f5fbf;text-decoration:none}a:hover{text-decoration:underline}
.muted{color:#5d6778}
.badge{display:inline-block;font-size:11px;padding:0 6px;border-radius:9px;border:1px solid;white-space:nowrap}
.badge.input{color:#1d6b35;border-color:#9fd3ae;background:#eefaf1}
.badge.output{color:#1f4f9c;border-color:#a9c3ea;background:#eef4fd}
.badge.internal,.badge.changelog{color:#6b4d0f;border-color:#e3c98a;background:#fdf7e8}
.badge.dead-letter{color:#8f2330;border-color:#e6a9b1;background:#fdeff1}
.badge.pii{color:#8f2330;border-color:#e6a9b1}
.dir{white-space:nowrap}
.small{font-size:11.5px}
table.channels{font-size:13px}
table.fields{table-layout:fixed}
table.fields td{overflow-wrap:anywhere}
table.channels td:first-child code{white-space:normal}
details{margin:6px 0}summary{cursor:pointer;color:#1f5fbf}
`;

/** The page, from the AsyncAPI document. */
export function renderAsyncApiHtml(doc: Doc): string {
  const info = doc.info as JsonObject;
  const channels = doc.channels as Record<string, JsonObject>;
  const operations = doc.operations as Record<string, JsonObject>;
  const components = (doc.components as { schemas: Record<string, JsonObject> }).schemas;
  const directions = new Map<string, string[]>();
  for (const op of Object.values(operations)) {
    const id = String((op.channel as JsonObject).$ref).replace('#/channels/', '');
    directions.set(id, [...(directions.get(id) ?? []), String(op.action)]);
  }

  const usedBy = new Map<string, ChannelUse[]>();
  const examples = new Map<string, Json[]>();
  const channelRows = Object.entries(channels).map(([id, ch]) => {
    const message = Object.values(ch.messages as Record<string, JsonObject>)[0] as JsonObject;
    const kafka = (ch.bindings as JsonObject).kafka as JsonObject;
    const ref = isObject(message.payload) ? message.payload.$ref : undefined;
    const record = typeof ref === 'string' ? ref.replace('#/components/schemas/', '') : null;
    if (record) {
      usedBy.set(record, [...(usedBy.get(record) ?? []), { id, address: ch.address }]);
      examples.set(record, [
        ...(examples.get(record) ?? []),
        ...((message.examples as JsonObject[]) ?? []).map((e) => e.payload as Json),
      ]);
    }
    const kind = String(ch['x-churn-kind']);
    const internal = ch['x-churn-internal'] === true;
    const payload = record
      ? `<a href="#${typeAnchor(record)}">${esc(record)}</a>`
      : kind === 'dead-letter'
        ? `original bytes, <a href="#dead-letter-headers">headers</a>`
        : esc(String(message.contentType) === 'application/json' ? 'state (JSON)' : 'state (binary)');
    const keyText = KEY_LABELS[String(ch['x-churn-key'])] ?? esc(ch['x-churn-key']);
    const requires = Array.isArray(ch['x-churn-policy-requires'])
      ? `<br><span class="muted">only with ${(ch['x-churn-policy-requires'] as string[]).map((s) => `<code>${esc(s)}</code>`).join(', ')}</span>`
      : '';
    const cleanup = ((kafka.topicConfiguration as JsonObject)['cleanup.policy'] as string[]).join(', ');
    const follows = ch['x-churn-partitions-follow-topic-partitions'] === true;
    const partitions = `${esc(kafka.partitions)} <span class="muted small">${follows ? 'TOPIC_PARTITIONS' : 'fixed'}</span>`;
    const shapes = `<br><span class="muted small">${esc((ch['x-churn-shapes'] as string[]).join(', '))}</span>`;
    return (
      `<tr id="${channelAnchor(id)}"><td><code>${esc(ch.address).replace(/([.-])/g, '$1<wbr>')}</code>${requires}${shapes}</td>` +
      `<td><span class="badge ${esc(kind)}">${esc(kind)}</span></td>` +
      `<td class="dir">${(directions.get(id) ?? []).map(esc).join(', ')}</td>` +
      `<td>${payload}</td><td>${keyText}</td><td>${partitions}</td><td>${esc(cleanup)}</td>` +
      `<td>${internal ? 'yes' : 'no'}</td></tr>`
    );
  });

  const headers = components.DeadLetterHeaders as JsonObject;
  const headerRows = Object.entries(headers.properties as Record<string, JsonObject>)
    .map(
      ([name, h]) =>
        `<tr><td><code>${esc(name)}</code></td><td>${inline(h.description)}${
          Array.isArray(h.enum) ? ` One of ${h.enum.map((v) => `<code>${esc(v)}</code>`).join(', ')}.` : ''
        }</td></tr>`,
    )
    .join('\n');

  const recordNames = Object.keys(components).filter(
    (name) => isObject(components[name]) && isObject(components[name]?.schema),
  );
  const named = namedTypes(recordNames.map((n) => (components[n] as JsonObject).schema as JsonObject));
  const topRecords = recordNames.map((n) => [n, named.get(n) as JsonObject] as const);
  const nested = [...named.entries()]
    .filter(([n, def]) => def.type === 'record' && !recordNames.includes(n))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const enums = [...named.entries()]
    .filter(([, def]) => def.type === 'enum')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const server = (doc.servers as Record<string, JsonObject>).local as JsonObject;

  return `<!doctype html>
<!-- Generated by packages/contracts/scripts/generate.ts from docs/asyncapi.yaml's sources. Do not edit. -->
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} ${esc(info.version)}: AsyncAPI</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(info.title)} <span class="muted">${esc(info.version)}</span></h1>
<p class="muted">AsyncAPI ${esc(doc.asyncapi)}: <a href="asyncapi.yaml">asyncapi.yaml</a></p>
${prose(info.description)}
<h2>Server</h2>
<p><code>${esc(server.host)}</code> (${esc(server.protocol)}): ${inline(server.summary)} ${inline(server.description)}</p>
<h2>Channels</h2>
<table class="channels">
<thead><tr><th>topic <span class="muted small">deployment shapes</span></th><th>kind</th><th>direction</th><th>payload</th><th>key</th><th>partitions</th><th>cleanup policy</th><th>internal</th></tr></thead>
<tbody>
${channelRows.join('\n')}
</tbody>
</table>
<p class="muted">Direction is the pipeline's: it receives (reads) or sends (writes) the topic. Partitions: the count the
pipeline creates a missing topic with; TOPIC_PARTITIONS when it follows that setting. Deployment shapes: one engine,
or one service per processor; the topic exists in those listed.</p>
<h2 id="dead-letter-headers">Dead-letter headers</h2>
<p>${inline(headers.description)}</p>
<table>
<thead><tr><th>header</th><th>meaning</th></tr></thead>
<tbody>
${headerRows}
</tbody>
</table>
<h2>Records</h2>
${topRecords.map(([name, def]) => recordHtml(name, def, usedBy.get(name) ?? [], examples.get(name) ?? [])).join('\n')}
<h2>Nested records</h2>
${nested.map(([name, def]) => recordHtml(name, def, [], [])).join('\n')}
<h2>Enums</h2>
${enumsHtml(enums)}
</main>
</body>
</html>
`;
}
