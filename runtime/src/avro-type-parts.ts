import type avro from 'avsc';

/** What an avsc type is made of (its declarations hide these fields): what the code generators read. */
export interface TypeParts {
  typeName: string;
  fields?: Array<{ name: string; type: avro.Type; defaultValue(): unknown }>;
  types?: avro.Type[];
  itemsType?: avro.Type;
  valuesType?: avro.Type;
  symbols?: string[];
  size?: number;
  underlyingType?: avro.Type;
}

export const parts = (type: avro.Type): TypeParts => type as unknown as TypeParts;
