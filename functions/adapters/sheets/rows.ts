/** What every tabular source yields: rows with their number in the sheet or file (the header is row 1). */
export interface SheetRow {
  rowNumber: number;
  cells: string[];
}

/** A source answered with an error the import's owner can act on (not shared, wrong id, not CSV…). */
export class SourceFetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'SourceFetchError';
  }
}
