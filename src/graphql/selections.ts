import { FieldNode, FragmentDefinitionNode, Kind, SelectionSetNode, type DocumentNode } from 'graphql';

export type Fragments = ReadonlyMap<string, FragmentDefinitionNode>;

export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

/**
 * The fields of one selection set with fragments (spread or inline) opened, each with the type
 * condition it was selected under (null: the set's own type). A fragment spread twice on one
 * path is opened once; cycles are refused earlier by graphql's NoFragmentCycles rule.
 */
export function fieldsOf(selectionSet: SelectionSetNode | undefined, fragments: Fragments, seen: ReadonlySet<string> = new Set()): { field: FieldNode; typeCondition: string | null }[] {
  const out: { field: FieldNode; typeCondition: string | null }[] = [];
  const walk = (set: SelectionSetNode | undefined, condition: string | null, visited: ReadonlySet<string>) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) out.push({ field: selection, typeCondition: condition });
      else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet, selection.typeCondition?.name.value ?? condition, visited);
      else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !visited.has(name)) walk(fragment.selectionSet, fragment.typeCondition.name.value, new Set(visited).add(name));
      }
    }
  };
  walk(selectionSet, null, seen);
  return out;
}
