import avro from 'avsc';
import type { Type, types as avroTypes } from 'avsc';
import type { AvroSchemaInput } from './fingerprint.js';

type ForSchemaArg = Parameters<typeof avro.Type.forSchema>[0];

/**
 * Builds the avsc Type the project reads and writes with. Compared with `avro.Type.forSchema(schema)`:
 *
 * - records decode to plain objects (prototype `Object.prototype`), so decoded values are exactly the shapes of
 *   the TypeScript interfaces: no generated `CanonicalOrder` class, no `clone`/`toBuffer` methods, and
 *   `toStrictEqual` against an object literal holds;
 * - unions of `null` and one other type are unwrapped (`string | null`, not `{ string: "x" }`): avsc's 'auto'
 *   mode, set explicitly so a change of avsc's default cannot change our values;
 * - logical types that avsc does not implement (`timestamp-micros`) read as their underlying type, so a
 *   timestamp-micros `long` is a JS number of epoch microseconds (exact below 2^53, i.e. until the year 2255;
 *   avsc refuses to decode a long it cannot represent exactly rather than lose precision).
 *
 * Maps decode to plain objects and arrays to arrays, as avsc always does.
 *
 * The plain-object behaviour costs nothing per record: avsc's generated reader calls `new Ctor(...)`, and this
 * function points each record constructor's `prototype` at `Object.prototype` once, when the type is built.
 * An avsc Type passed in is returned as it is (not modified).
 */
export function createAvroType(schema: AvroSchemaInput): Type {
  if (avro.Type.isType(schema)) return schema as Type;
  const registry: Record<string, Type> = {};
  const type = avro.Type.forSchema(schema as ForSchemaArg, {
    registry,
    wrapUnions: 'auto',
    omitRecordMethods: true,
  });
  for (const named of Object.values(registry)) {
    if (named.typeName === 'record' || named.typeName === 'error') {
      const ctor = (named as avroTypes.RecordType).recordConstructor as { prototype: object };
      ctor.prototype = Object.prototype;
    }
  }
  return type;
}

/**
 * A short human label of a type for messages: the full name of a named type (records, enums, fixed), the branches
 * of a union (`null | string`), `array<…>` / `map<…>`, or the primitive's name.
 */
export function typeLabel(type: Type): string {
  if (type.name !== undefined) return type.name;
  if (avro.Type.isType(type, 'union')) return (type as avroTypes.UnwrappedUnionType).types.map(typeLabel).join(' | ');
  if (avro.Type.isType(type, 'array')) return `array<${typeLabel((type as avroTypes.ArrayType).itemsType)}>`;
  if (avro.Type.isType(type, 'map')) return `map<${typeLabel((type as avroTypes.MapType).valuesType as Type)}>`;
  return type.typeName;
}
