// Writes the schema that type-graphql builds to generated/schema.graphql, for GraphQL Code
// Generator and the contract test. type-graphql only emits when buildSchema() runs, hence this step.
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { buildGraphQLSchema } from '../src/graphql/schema';

async function main(): Promise<void> {
  const schema = await buildGraphQLSchema();
  const dir = join(__dirname, '..', 'generated');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'schema.graphql'), printSchema(schema) + '\n');
  process.stdout.write(`wrote ${join('generated', 'schema.graphql')}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
