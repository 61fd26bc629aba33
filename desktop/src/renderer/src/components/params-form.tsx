import {
  Fieldset,
  JsonInput,
  NumberInput,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { useState } from 'react';
import type { JsonObject, JsonValue } from '@webguard/shared';

/** The part of JSON Schema (as zod's toJSONSchema writes it) that forms are generated from. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: JsonValue[];
  const?: JsonValue;
  default?: JsonValue;
  description?: string;
  title?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

const asSchema = (value: unknown): JsonSchema =>
  typeof value === 'object' && value !== null ? value : {};

/** Type of a field, seeing through `anyOf: [T, null]` that optional-nullable fields produce. */
function fieldType(schema: JsonSchema): { type: string | null; schema: JsonSchema } {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) {
    const concrete = variants.filter((variant) => variant.type !== 'null');
    if (concrete.length === 1)
      return fieldType({
        ...concrete[0],
        description: schema.description ?? concrete[0]!.description,
        default: schema.default,
      });
    return { type: null, schema };
  }
  if (schema.enum) return { type: 'enum', schema };
  const type = Array.isArray(schema.type)
    ? schema.type.find((item) => item !== 'null')
    : schema.type;
  return { type: type ?? null, schema };
}

const label = (name: string) => name.replace(/_/g, ' ');

/** How a JSON value reads in an input: strings as they are, anything else as JSON. */
const asText = (value: JsonValue | undefined): string =>
  typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);

/** Initial values: every default the schema declares, so a new case starts valid where it can. */
export function defaultsFor(rootSchema: unknown): JsonObject {
  const schema = asSchema(rootSchema);
  const values: JsonObject = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    if (property.default !== undefined) values[name] = property.default;
  }
  return values;
}

interface FieldProps {
  name: string;
  path: string;
  schema: JsonSchema;
  required: boolean;
  value: JsonValue | undefined;
  onChange: (value: JsonValue | undefined) => void;
  errors: Record<string, string>;
}

/** A field whose value is free JSON, for shapes a form cannot express well. */
function JsonField({ name, path, schema, required, value, onChange, errors }: FieldProps) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value, null, 2));
  const [invalid, setInvalid] = useState<string | null>(null);
  return (
    <JsonInput
      label={label(name)}
      description={schema.description}
      withAsterisk={required}
      value={text}
      formatOnBlur
      autosize
      minRows={3}
      maxRows={12}
      data-testid={`param-${path}`}
      error={invalid ?? errors[path]}
      onChange={(next) => {
        setText(next);
        if (next.trim() === '') {
          setInvalid(null);
          onChange(undefined);
          return;
        }
        try {
          onChange(JSON.parse(next) as JsonValue);
          setInvalid(null);
        } catch {
          setInvalid('not valid JSON yet');
        }
      }}
    />
  );
}

function Field(props: FieldProps) {
  const { name, path, required, value, onChange, errors } = props;
  const { type, schema } = fieldType(props.schema);
  const common = {
    label: label(name),
    description: schema.description,
    withAsterisk: required,
    error: errors[path],
    'data-testid': `param-${path}`,
  };
  switch (type) {
    case 'enum':
      return (
        <Select
          {...common}
          data={(schema.enum ?? []).map(asText)}
          value={value === undefined || value === null ? null : asText(value)}
          clearable={!required}
          onChange={(next) =>
            onChange(
              next === null
                ? undefined
                : (schema.enum?.find((option) => asText(option) === next) ?? next),
            )
          }
        />
      );
    case 'string':
      return (
        <TextInput
          {...common}
          placeholder={
            schema.format === 'uri'
              ? 'https://…'
              : schema.default !== undefined
                ? asText(schema.default)
                : undefined
          }
          value={typeof value === 'string' ? value : ''}
          onChange={(event) =>
            onChange(
              event.currentTarget.value === '' && !required ? undefined : event.currentTarget.value,
            )
          }
        />
      );
    case 'integer':
    case 'number':
      return (
        <NumberInput
          {...common}
          allowDecimal={type === 'number'}
          min={schema.minimum}
          max={schema.maximum}
          value={typeof value === 'number' ? value : ''}
          onChange={(next) => onChange(typeof next === 'number' ? next : undefined)}
        />
      );
    case 'boolean':
      return (
        <Switch
          label={label(name)}
          description={schema.description}
          checked={value === true}
          data-testid={`param-${path}`}
          onChange={(event) => onChange(event.currentTarget.checked)}
        />
      );
    case 'array': {
      const items = fieldType(asSchema(schema.items));
      if (items.type === 'string' || items.type === 'number' || items.type === 'integer') {
        const list = Array.isArray(value) ? value.map(asText) : [];
        return (
          <TagsInput
            {...common}
            placeholder="Type and press Enter"
            value={list}
            onChange={(next) =>
              onChange(
                items.type === 'string'
                  ? next
                  : next.map(Number).filter((item) => Number.isFinite(item)),
              )
            }
          />
        );
      }
      return <JsonField {...props} />;
    }
    case 'object':
      if (schema.properties && Object.keys(schema.properties).length > 0) {
        const objectValue =
          typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
        return (
          <Fieldset legend={label(name)}>
            <ObjectFields
              schema={schema}
              parentRequired={required}
              value={objectValue}
              // An optional object left empty is left out, rather than sent half-filled.
              onChange={(next) =>
                onChange(Object.keys(next).length === 0 && !required ? undefined : next)
              }
              errors={errors}
              prefix={`${path}.`}
            />
          </Fieldset>
        );
      }
      return <JsonField {...props} />;
    default:
      return <JsonField {...props} />;
  }
}

function ObjectFields({
  schema,
  parentRequired = true,
  value,
  onChange,
  errors,
  prefix,
}: {
  schema: JsonSchema;
  /** Fields of an optional object are only required once the object is filled in. */
  parentRequired?: boolean;
  value: JsonObject;
  onChange: (value: JsonObject) => void;
  errors: Record<string, string>;
  prefix: string;
}) {
  const required = new Set(schema.required ?? []);
  const entries = Object.entries(schema.properties ?? {});
  return (
    <Stack gap="sm">
      {entries.map(([name, property]) => (
        <Field
          key={name}
          name={name}
          path={`${prefix}${name}`}
          schema={property}
          required={parentRequired && required.has(name) && property.default === undefined}
          value={value[name]}
          errors={errors}
          onChange={(next) => {
            const copy = { ...value };
            if (next === undefined) delete copy[name];
            else copy[name] = next;
            onChange(copy);
          }}
        />
      ))}
    </Stack>
  );
}

/**
 * A form generated from a skill's params JSON Schema: text, numbers, switches, choices and lists
 * get their own inputs; shapes a form cannot express (unions, lists of objects) get a JSON editor.
 */
export function ParamsForm({
  schema,
  value,
  onChange,
  errors = {},
}: {
  schema: unknown;
  value: JsonObject;
  onChange: (value: JsonObject) => void;
  errors?: Record<string, string>;
}) {
  const root = asSchema(schema);
  if (!root.properties || Object.keys(root.properties).length === 0) {
    return (
      <Text size="sm" c="dimmed">
        This skill takes no parameters.
      </Text>
    );
  }
  return <ObjectFields schema={root} value={value} onChange={onChange} errors={errors} prefix="" />;
}
