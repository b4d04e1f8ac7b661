// What the operation guard needs to know of an operation that does not depend on its variables,
// worked out once per parsed operation (operation-guard.ts keeps it in a WeakMap keyed by the
// operation node). Apollo keeps parsed documents in its document store per query text, so a
// client sending the same mutation thousands of times a second is analysed once; a document
// Apollo evicts takes its analysis with it. WebSocket operations are parsed per subscribe and
// are analysed each time, as before.
import { visit, type ASTNode, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { selectsIntrospection } from './introspection';
import { operationCost } from './query-cost';
import { fragmentsOf, type Fragments } from './selections';
import { mutationArgumentsOf, type MutationArgument } from './text-inputs';

/** The arguments whose values the cost reads (query-cost.ts: pageSizeOf, batchSizeOf). */
const COSTED_ARGUMENTS: ReadonlySet<string> = new Set(['first', 'inputs']);


export interface OperationAnalysis {
  fragments: Fragments;
  selectsIntrospection: boolean;
  /**
   * The operation's cost when no argument it reads holds a variable (the same with any
   * variables, or none); null when it must be worked out from the coerced variables.
   */
  staticCost: number | null;
  /**
   * Whether the variables as sent can stand in for the coerced ones when checking text: no
   * variable has a default (coercion would add it). The checks then run on the values as sent,
   * and coercion is only needed to confirm a refusal (see operation-guard.ts).
   */
  rawVariablesSuffice: boolean;
  /** Every argument of the operation's mutation fields, in document order (none for queries). */
  mutationArguments: MutationArgument[];
}

function holdsVariable(node: ASTNode): boolean {
  let found = false;
  visit(node, {
    Variable() {
      found = true;
    },
  });
  return found;
}

function costReadsVariables(operation: OperationDefinitionNode, fragments: Fragments): boolean {
  const nodes: ASTNode[] = [operation, ...fragments.values()];
  let reads = false;
  for (const node of nodes) {
    visit(node, {
      Argument(argument) {
        if (COSTED_ARGUMENTS.has(argument.name.value) && holdsVariable(argument.value)) reads = true;
      },
    });
  }
  return reads;
}

/** Works out an operation's analysis; the operation guard keeps it per operation node. */
export function analyseOperation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): OperationAnalysis {
  const fragments = fragmentsOf(document);
  const mutationArguments = mutationArgumentsOf(schema, operation, fragments);
  return {
    fragments,
    selectsIntrospection: selectsIntrospection(operation, fragments),
    staticCost: costReadsVariables(operation, fragments) ? null : operationCost(schema, operation, fragments, undefined),
    rawVariablesSuffice: (operation.variableDefinitions ?? []).every((definition) => definition.defaultValue === undefined),
    mutationArguments,
  };
}
