import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ConfigError, ValidationError, type ValidationIssue } from '../errors/index.js';
import { CONTENT_TYPE_JSON } from './codec.js';
import { requireContentType, requireName } from '../config/names.js';

/**
 * A topic (or queue) declared with a schema implementing Standard Schema — zod, valibot,
 * arktype, … Producers validate each body before anything is sent; subscribers validate
 * each received body and dead-letter what fails. Handler types are inferred from it.
 * Definitions hold no connection, so one module of them serves every broker.
 */
export interface TopicDefinition<TSchema extends StandardSchemaV1 = StandardSchemaV1> {
  readonly name: string;
  readonly schema: TSchema;
  /** How a body without a content type is decoded (default `application/json`); a handler's option overrides it. */
  readonly defaultContentType: string;
}

/** A topic or queue: its name, or a definition with a schema. */
export type TopicRef = string | TopicDefinition;

/** What a producer may send to it: the schema's input type. */
export type BodyIn<TSchema extends StandardSchemaV1> = StandardSchemaV1.InferInput<TSchema>;
/** What a handler receives from it: the schema's output type. */
export type BodyOut<TSchema extends StandardSchemaV1> = StandardSchemaV1.InferOutput<TSchema>;

/**
 * Declare `name` with a Standard Schema; the body on the wire is the schema's input, handlers get
 * its output. A body that arrives without a content type is read as JSON unless
 * `defaultContentType` says otherwise.
 */
export function defineTopic<TSchema extends StandardSchemaV1>(name: string, options: { schema: TSchema; defaultContentType?: string }): TopicDefinition<TSchema> {
  requireName('topic', name);
  const schema = (options as { schema?: unknown } | undefined)?.schema as Partial<StandardSchemaV1> | undefined;
  const standard = schema?.['~standard'];
  if (!standard || standard.version !== 1 || typeof standard.validate !== 'function') {
    throw new ConfigError('options.schema', 'expected a schema implementing Standard Schema v1 (zod ≥ 3.24, valibot ≥ 1, arktype ≥ 2, …)');
  }
  const defaultContentType = options.defaultContentType === undefined ? CONTENT_TYPE_JSON : requireContentType('options.defaultContentType', options.defaultContentType);
  return Object.freeze({ name, schema: options.schema, defaultContentType });
}

export function topicName(topic: TopicRef, field = 'topic'): string {
  return requireName(field, typeof topic === 'object' && topic !== null ? topic.name : topic);
}

export function schemaOf(topic: TopicRef): StandardSchemaV1 | undefined {
  return typeof topic === 'object' && topic !== null ? topic.schema : undefined;
}

/** The content type a body without one is decoded as: the handler's option, else the topic definition's, else none (bytes). */
export function defaultContentTypeOf(topic: TopicRef, given: string | undefined): string | undefined {
  return given ?? (typeof topic === 'object' && topic !== null ? (topic.defaultContentType ?? CONTENT_TYPE_JSON) : undefined);
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  return (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.');
}

/** Validate `value`; the schema's output, or a ValidationError listing every issue. */
export async function validateBody(schema: StandardSchemaV1, value: unknown, topic: string, where: string): Promise<unknown> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) {
    const issues: ValidationIssue[] = result.issues.map((issue) => ({ message: issue.message, path: pathOf(issue) }));
    throw new ValidationError(topic, issues, where);
  }
  return result.value;
}
