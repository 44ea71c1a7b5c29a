import type { Database } from '../store/database.js';
import { GroupCommit } from '../store/group-commit.js';
import type { SegmentMessage } from './domain/segment-message.js';
import * as store from './store/ingest-store.js';

type Accepted = Array<{ sourceId: string; message: SegmentMessage }>;

/**
 * The durable log of accepted events, written with group commit (see GroupCommit): a request
 * is answered only after the transaction holding its events has committed.
 */
export class EventLog {
  private readonly commits: GroupCommit<Accepted, void>;

  constructor(
    database: Database,
    /** Told after each commit, so delivery can start at once. */
    onCommitted: () => void,
  ) {
    this.commits = new GroupCommit<Accepted, void>(
      async (groups) => {
        await database.db.transaction().execute((trx) => store.insertEvents(trx, groups.flat()));
        return groups.map(() => undefined);
      },
      { onCommitted },
    );
  }

  append(sourceId: string, messages: readonly SegmentMessage[]): Promise<void> {
    return this.commits.submit(messages.map((message) => ({ sourceId, message })));
  }

  /** Finishes what was accepted, then refuses more. */
  close(): Promise<void> {
    return this.commits.close();
  }
}
