/**
 * Turns the Avro schema files into TypeScript source: types, zod validators and
 * self-contained Avro schemas. Pure (no I/O) so that the generator script and the
 * test that guards against drift share it.
 */

export interface SchemaFile {
  file: string;
  schema: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface NamedDef {
  fullName: string;
  name: string;
  namespace: string;
  def: JsonObject;
  file: string;
}

interface CatalogueEntry {
  topic: string;
  record: string;
  role: 'input' | 'output';
  compacted: boolean;
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const HEADER = '// Generated from schemas/*.avsc by packages/contracts/scripts/generate.ts. Do not edit.\n';

function fail(file: string, message: string): never {
  throw new Error(`${file}: ${message}`);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function qualify(name: string, namespace: string): string {
  return name.includes('.') ? name : namespace ? `${namespace}.${name}` : name;
}

function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

/** Collects every named type (top-level file schemas) by full name. */
function collect(files: SchemaFile[]): Map<string, NamedDef> {
  const named = new Map<string, NamedDef>();
  for (const { file, schema } of files) {
    if (!isObject(schema)) fail(file, 'a schema file must hold one named record or enum');
    const { type, name, namespace } = schema;
    if ((type !== 'record' && type !== 'enum') || typeof name !== 'string') {
      fail(file, 'a schema file must hold one named record or enum');
    }
    const ns = typeof namespace === 'string' ? namespace : '';
    const fullName = qualify(name, ns);
    if (named.has(fullName)) fail(file, `${fullName} is defined twice`);
    const expected = file.replace(/^.*[\\/]/, '').replace(/\.avsc$/, '');
    if (shortName(fullName) !== expected)
      fail(file, `the file must be named after its type (${shortName(fullName)}.avsc)`);
    named.set(fullName, { fullName, name: shortName(fullName), namespace: ns, def: schema, file });
  }
  return named;
}

/**
 * Returns the schema of `root` with every named type it uses defined inline at its
 * first use, as a registry needs a schema that stands alone.
 */
function inlineSchema(root: NamedDef, named: Map<string, NamedDef>): JsonObject {
  const defined = new Set<string>();
  const walk = (node: Json, namespace: string, file: string): Json => {
    if (typeof node === 'string') {
      if (PRIMITIVES.has(node)) return node;
      const fullName = qualify(node, namespace);
      if (defined.has(fullName)) return fullName;
      const target = named.get(fullName);
      if (!target) fail(file, `unknown type ${node} (looked for ${fullName})`);
      return walk(target.def, target.namespace, target.file);
    }
    if (Array.isArray(node)) return node.map((branch) => walk(branch, namespace, file));
    if (!isObject(node)) return node;
    const { type } = node;
    if (type === 'record' || type === 'enum' || type === 'fixed') {
      const ns = typeof node.namespace === 'string' ? node.namespace : namespace;
      const fullName = qualify(String(node.name), ns);
      defined.add(fullName);
      if (type !== 'record') return { ...node, namespace: ns };
      const fields = (node.fields as JsonObject[]).map((field) => ({
        ...field,
        type: walk(field.type as Json, ns, file),
      }));
      return { ...node, namespace: ns, fields };
    }
    if (type === 'array') return { ...node, items: walk(node.items as Json, namespace, file) };
    if (type === 'map') return { ...node, values: walk(node.values as Json, namespace, file) };
    if (typeof type === 'string' && PRIMITIVES.has(type)) return node;
    return { ...node, type: walk(type as Json, namespace, file) };
  };
  return walk(root.def, root.namespace, root.file) as JsonObject;
}

/** Names of the named types a definition refers to directly or through nesting. */
function dependencies(def: JsonObject, namespace: string, named: Map<string, NamedDef>): string[] {
  const found: string[] = [];
  const walk = (node: Json): void => {
    if (typeof node === 'string') {
      if (!PRIMITIVES.has(node)) {
        const fullName = qualify(node, namespace);
        if (named.has(fullName)) found.push(fullName);
      }
    } else if (Array.isArray(node)) {
      for (const branch of node) walk(branch);
    } else if (isObject(node)) {
      if (node.type === 'record') for (const f of node.fields as JsonObject[]) walk(f.type as Json);
      else if (node.type === 'array') walk(node.items as Json);
      else if (node.type === 'map') walk(node.values as Json);
      else if (typeof node.type !== 'string' || !PRIMITIVES.has(node.type)) walk(node.type as Json);
    }
  };
  walk(def);
  return found;
}

function topoOrder(named: Map<string, NamedDef>): NamedDef[] {
  const order: NamedDef[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (def: NamedDef): void => {
    const s = state.get(def.fullName);
    if (s === 'done') return;
    if (s === 'visiting') fail(def.file, `${def.fullName} refers to itself; recursive types are not supported`);
    state.set(def.fullName, 'visiting');
    for (const dep of dependencies(def.def, def.namespace, named)) {
      if (dep !== def.fullName) visit(named.get(dep) as NamedDef);
    }
    state.set(def.fullName, 'done');
    order.push(def);
  };
  [...named.values()].sort((a, b) => a.fullName.localeCompare(b.fullName)).forEach(visit);
  return order;
}

function docComment(doc: Json | undefined, indent: string, extra: string[] = []): string {
  const lines = [...(typeof doc === 'string' ? doc.split('\n') : []), ...extra];
  if (lines.length === 0) return '';
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

interface FieldShape {
  tsOutput: string;
  tsInput: string;
  zod: string;
  optionalInInput: boolean;
  notes: string[];
}

function typeOf(node: Json, namespace: string, file: string, field: JsonObject): FieldShape {
  const props = field;
  if (typeof node === 'string') {
    switch (node) {
      case 'null':
        return { tsOutput: 'null', tsInput: 'null', zod: 'z.null()', optionalInInput: false, notes: [] };
      case 'boolean':
        return { tsOutput: 'boolean', tsInput: 'boolean', zod: 'z.boolean()', optionalInInput: false, notes: [] };
      case 'int':
      case 'long': {
        let zod = node === 'int' ? 'z.int32()' : 'z.int()';
        if (typeof props.minimum === 'number') zod += `.min(${props.minimum})`;
        if (typeof props.maximum === 'number') zod += `.max(${props.maximum})`;
        return { tsOutput: 'number', tsInput: 'number', zod, optionalInInput: false, notes: [] };
      }
      case 'float':
      case 'double': {
        let zod = 'z.number()';
        if (typeof props.minimum === 'number') zod += `.min(${props.minimum})`;
        if (typeof props.maximum === 'number') zod += `.max(${props.maximum})`;
        return { tsOutput: 'number', tsInput: 'number', zod, optionalInInput: false, notes: [] };
      }
      case 'string': {
        let zod = 'z.string()';
        if (props.format === 'uuid') zod = "z.guid({ error: 'must be a UUID' })";
        else if (props.format === 'iso4217')
          zod = "z.string().regex(/^[A-Z]{3}$/, { error: 'must be an ISO 4217 currency code' })";
        if (typeof props.minLength === 'number') zod += `.min(${props.minLength}, { error: 'must not be empty' })`;
        return { tsOutput: 'string', tsInput: 'string', zod, optionalInInput: false, notes: [] };
      }
      case 'bytes':
        return {
          tsOutput: 'Uint8Array',
          tsInput: 'Uint8Array',
          zod: 'z.instanceof(Uint8Array)',
          optionalInInput: false,
          notes: [],
        };
      default: {
        const name = shortName(qualify(node, namespace));
        return { tsOutput: name, tsInput: `${name}Input`, zod: `${name}Schema`, optionalInInput: false, notes: [] };
      }
    }
  }
  if (Array.isArray(node)) {
    const branches = node.filter((b) => b !== 'null');
    if (node.length !== 2 || branches.length !== 1)
      fail(file, `only unions of null and one type are supported (field ${String(field.name)})`);
    const inner = typeOf(branches[0] as Json, namespace, file, field);
    return {
      tsOutput: `${inner.tsOutput} | null`,
      tsInput: `${inner.tsInput} | null`,
      zod: `${inner.zod}.nullable()`,
      optionalInInput: false,
      notes: inner.notes,
    };
  }
  if (isObject(node)) {
    if (node.type === 'array') {
      const inner = typeOf(node.items as Json, namespace, file, {});
      return {
        tsOutput: `${wrap(inner.tsOutput)}[]`,
        tsInput: `${wrap(inner.tsInput)}[]`,
        zod: `z.array(${inner.zod})`,
        optionalInInput: false,
        notes: [],
      };
    }
    if (node.type === 'map') {
      const inner = typeOf(node.values as Json, namespace, file, {});
      return {
        tsOutput: `Record<string, ${inner.tsOutput}>`,
        tsInput: `Record<string, ${inner.tsInput}>`,
        zod: `z.record(z.string(), ${inner.zod})`,
        optionalInInput: false,
        notes: [],
      };
    }
    if (node.logicalType === 'timestamp-millis') {
      const base = typeOf(node.type as Json, namespace, file, field);
      return { ...base, notes: ['Epoch milliseconds (Avro timestamp-millis).'] };
    }
    if (typeof node.type === 'string') return typeOf(node.type, namespace, file, field);
  }
  return fail(file, `unsupported type in field ${String(field.name)}: ${JSON.stringify(node)}`);
}

function wrap(ts: string): string {
  return ts.includes('|') ? `(${ts})` : ts;
}

function renderTypes(order: NamedDef[]): string {
  let out = HEADER;
  for (const def of order) {
    const { name } = def;
    if (def.def.type === 'enum') {
      const symbols = def.def.symbols as string[];
      out += `\n${docComment(def.def.doc, '', [`@default ${String(def.def.default)} (what readers use for a symbol they do not know)`])}`;
      out += `export const ${name}Values = [${symbols.map((s) => `'${s}'`).join(', ')}] as const;\n`;
      out += `export type ${name} = (typeof ${name}Values)[number];\n`;
      out += `export type ${name}Input = ${name};\n`;
      continue;
    }
    const fields = def.def.fields as JsonObject[];
    let output = '';
    let input = '';
    for (const field of fields) {
      const shape = typeOf(field.type as Json, def.namespace, def.file, field);
      const hasDefault = Object.hasOwn(field, 'default');
      const notes = [...shape.notes];
      if (hasDefault) notes.push(`@default ${JSON.stringify(field.default)}`);
      const comment = docComment(field.doc, '  ', notes);
      output += `${comment}  ${String(field.name)}: ${shape.tsOutput};\n`;
      input += `${comment}  ${String(field.name)}${hasDefault ? '?' : ''}: ${shape.tsInput}${hasDefault ? ' | undefined' : ''};\n`;
    }
    out += `\n${docComment(def.def.doc, '')}export interface ${name} {\n${output}}\n`;
    out += `\n/** ${name} as a producer may write it: fields with a default may be left out. */\nexport interface ${name}Input {\n${input}}\n`;
  }
  return out;
}

function renderValidators(order: NamedDef[]): string {
  const names = order.map((d) => d.name);
  let out = `${HEADER}import { z } from 'zod';\nimport type {\n${names.flatMap((n) => [`  ${n},`, `  ${n}Input,`]).join('\n')}\n} from './types.ts';\nimport {\n${order
    .filter((d) => d.def.type === 'enum')
    .map((d) => `  ${d.name}Values,`)
    .join('\n')}\n} from './types.ts';\n`;
  for (const def of order) {
    const { name } = def;
    if (def.def.type === 'enum') {
      out += `\nexport const ${name}Schema: z.ZodType<${name}, ${name}Input> = z.enum(${name}Values);\n`;
      continue;
    }
    const fields = def.def.fields as JsonObject[];
    const lines = fields.map((field) => {
      const shape = typeOf(field.type as Json, def.namespace, def.file, field);
      let zod = shape.zod;
      if (Object.hasOwn(field, 'default')) zod += `.default(${JSON.stringify(field.default)})`;
      return `  ${String(field.name)}: ${zod},`;
    });
    out += `\nexport const ${name}Schema: z.ZodType<${name}, ${name}Input> = z.object({\n${lines.join('\n')}\n});\n`;
  }
  return out;
}

function renderAvro(order: NamedDef[], named: Map<string, NamedDef>, catalogue: CatalogueEntry[]): string {
  const records = order.filter((d) => d.def.type === 'record');
  let out = `${HEADER}import type {\n${records.map((d) => `  ${d.name},`).join('\n')}\n} from './types.ts';\n`;
  out += `\n/** Names of every record in the contracts. */\nexport type RecordName = ${records.map((d) => `'${d.name}'`).join(' | ')};\n`;
  out += `\n/** The record type for each record name. */\nexport interface RecordTypes {\n${records.map((d) => `  ${d.name}: ${d.name};`).join('\n')}\n}\n`;
  out += '\n/** Self-contained Avro schema of every record, as registered in the schema registry. */\n';
  out += 'export const avroSchemas: Readonly<Record<RecordName, object>> = {\n';
  for (const def of records) out += `  ${def.name}: ${JSON.stringify(inlineSchema(def, named))},\n`;
  out += '};\n';
  out += `\n/** Every topic of the public interface. */\nexport type TopicName = ${catalogue.map((c) => `'${c.topic}'`).join(' | ')};\n`;
  out += `\n/** The record each topic carries. */\nexport interface TopicRecords {\n${catalogue.map((c) => `  '${c.topic}': ${c.record};`).join('\n')}\n}\n`;
  out +=
    "\nexport interface TopicEntry {\n  topic: TopicName;\n  record: RecordName;\n  role: 'input' | 'output';\n  /** A compacted topic keeps the latest record per key. */\n  compacted: boolean;\n}\n";
  out += `\n/** The topic catalogue (schemas/topics.json). */\nexport const topicCatalogue: readonly TopicEntry[] = ${JSON.stringify(
    catalogue,
    null,
    2,
  )
    .replace(/"(\w+)":/g, '$1:')
    .replace(/"/g, "'")};\n`;
  return out;
}

function parseCatalogue(value: unknown, named: Map<string, NamedDef>): CatalogueEntry[] {
  const entries =
    isObject(value) && Array.isArray(value.topics)
      ? value.topics
      : fail('schemas/topics.json', 'expected { "topics": [...] }');
  const names = new Set([...named.values()].map((d) => d.name));
  return entries.map((entry, i) => {
    if (!isObject(entry) || typeof entry.topic !== 'string' || typeof entry.record !== 'string') {
      fail('schemas/topics.json', `topics[${i}] needs a topic and a record`);
    }
    if (!names.has(entry.record)) fail('schemas/topics.json', `topics[${i}].record ${entry.record} has no schema`);
    if (entry.role !== 'input' && entry.role !== 'output')
      fail('schemas/topics.json', `topics[${i}].role must be input or output`);
    return { topic: entry.topic, record: entry.record, role: entry.role, compacted: entry.compacted === true };
  });
}

/** Renders the generated files, by file name. */
export function renderGenerated(files: SchemaFile[], catalogue: unknown): Record<string, string> {
  const named = collect(files);
  const order = topoOrder(named);
  const topics = parseCatalogue(catalogue, named);
  return {
    'types.ts': renderTypes(order),
    'validators.ts': renderValidators(order),
    'avro.ts': renderAvro(order, named, topics),
  };
}
