/** Delivery.renderNotes in a text column: JSON when there are notes, NULL (read as []) when none. */
export const renderNotesTransformer = {
  to: (notes: string[] | null | undefined) => (notes && notes.length > 0 ? JSON.stringify(notes) : null),
  from: (value: string | null | undefined): string[] => (value ? (JSON.parse(value) as string[]) : []),
};
