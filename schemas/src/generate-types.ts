import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { schemaOf, type AvroField, type AvroType } from './avro.js';
import { renderBounds } from './sample-bounds.js';
import { STREAMS } from './topics.js';

const PRIMITIVES: Record<string, string> = {
  null: 'null', boolean: 'boolean', int: 'number', long: 'number', float: 'number', double: 'number',
  bytes: 'Buffer', string: 'string',
};

const OUTPUT = new URL('./types.generated.ts', import.meta.url.replace('/dist/', '/src/'));
const BOUNDS_DOC = new URL('../sample-bounds.md', import.meta.url);

function docComment(doc: string | undefined, indent: string): string {
  return doc === undefined ? '' : `${indent}/** ${doc} */\n`;
}

/** TypeScript declarations for every record of every topic schema, in the order Avro defines them. */
export function renderTypes(): string {
  const declarations: string[] = [];
  const declared = new Set<string>();

  const typeOf = (type: AvroType): string => {
    if (typeof type === 'string') return PRIMITIVES[type] ?? type.split('.').pop()!;
    if (Array.isArray(type)) return type.map(typeOf).join(' | ');
    switch (type.type) {
      case 'record': {
        if (!declared.has(type.name)) {
          declared.add(type.name);
          const fields = type.fields.map((f: AvroField) => `${docComment(f.doc, '  ')}  ${f.name}: ${typeOf(f.type)};`);
          declarations.push(`${docComment(type.doc, '')}export interface ${type.name} {\n${fields.join('\n')}\n}`);
        }
        return type.name;
      }
      case 'enum':
        if (!declared.has(type.name)) {
          declared.add(type.name);
          declarations.push(
            `${docComment(type.doc, '')}export type ${type.name} = ${type.symbols.map((s) => `'${s}'`).join(' | ')};`,
          );
        }
        return type.name;
      case 'array': {
        const item = typeOf(type.items);
        return item.includes('|') ? `Array<${item}>` : `${item}[]`;
      }
      case 'map':
        return `Record<string, ${typeOf(type.values)}>`;
      default:
        return PRIMITIVES[type.type] ?? 'unknown';
    }
  };

  const streams = STREAMS.map((stream) => `  ${stream}: ${typeOf(schemaOf(stream))};`);
  declarations.push(`/** The value type of each stream's topic. */\nexport interface StreamRecords {\n${streams.join('\n')}\n}`);
  return `// Generated from schemas/avro/*.avsc by \`npm run generate -w @gpumon/schemas\`. Do not edit.\n\n${declarations.join('\n\n')}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(OUTPUT, renderTypes());
  writeFileSync(BOUNDS_DOC, renderBounds());
  console.log(`wrote ${OUTPUT.pathname} and ${BOUNDS_DOC.pathname}`);
}
