/** A stored item (a replica or an event) as the DocumentClient hands it over. */
export type Item = Record<string, unknown>;
