import { ASTVisitor, FragmentDefinitionNode, GraphQLError, Kind, SelectionSetNode, ValidationContext } from 'graphql';

/**
 * Rejects operations that select more than `maxFields` fields in all, with fragments expanded
 * (each spread counts again where it is used). Depth alone does not stop a wide query: a
 * thousand aliases of `apps { callbacks { ... } }` are shallow and still expensive.
 */
export function fieldCountLimitRule(maxFields: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const count = (selectionSet: SelectionSetNode | undefined, seen: ReadonlySet<string>, budget: { left: number }): void => {
      if (!selectionSet) return;
      for (const selection of selectionSet.selections) {
        if (budget.left < 0) return; // over the limit already: stop walking (a fragment bomb could be huge)
        if (selection.kind === Kind.FIELD) {
          if (!selection.name.value.startsWith('__')) budget.left--;
          count(selection.selectionSet, seen, budget);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          count(selection.selectionSet, seen, budget);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // A cycle is reported by graphql's own NoFragmentCycles rule.
          if (fragment && !seen.has(name)) count(fragment.selectionSet, new Set(seen).add(name), budget);
        }
      }
    };
    return {
      OperationDefinition(node) {
        const budget = { left: maxFields };
        count(node.selectionSet, new Set(), budget);
        if (budget.left < 0) {
          context.reportError(
            new GraphQLError(`the operation selects more than ${maxFields} fields (fragments counted where they are spread); split it`, {
              nodes: [node],
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
            }),
          );
        }
      },
    };
  };
}
