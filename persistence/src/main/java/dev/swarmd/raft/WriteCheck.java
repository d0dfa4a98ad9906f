package dev.swarmd.raft;

/**
 * Whether a committed entry may be applied: one writer per object, enforced in log order. An entry
 * must come from the leader of the term it was committed in (a deposed leader that wakes up writes
 * nothing), and must continue its entity's history exactly (a write built on a stale state, or one
 * already applied, is refused).
 */
public final class WriteCheck {
  public enum Verdict {
    APPLY,
    /** Written by a leader of another term than the one that committed it. */
    STALE_TERM,
    /** Its first sequence number is already taken: a write built on stale state, or applied before. */
    STALE_SEQUENCE,
    /** It skips sequence numbers: the writer missed events. */
    GAP
  }

  private WriteCheck() {}

  /** The verdict on entry, committed in logTerm, for an entity whose history ends at highest. */
  public static Verdict judge(JournalEntry entry, long logTerm, long highest) {
    if (entry.term() != logTerm) {
      return Verdict.STALE_TERM;
    }
    if (entry.firstSequenceNr() <= highest) {
      return Verdict.STALE_SEQUENCE;
    }
    long expected = highest + 1;
    for (JournalEntry.Event e : entry.events()) {
      if (e.sequenceNr() != expected++) {
        return Verdict.GAP;
      }
    }
    return Verdict.APPLY;
  }

  /** Why an entry was refused, for the writer's failure and the log. */
  public static String reason(Verdict v, JournalEntry entry, long logTerm, long highest) {
    return switch (v) {
      case APPLY -> "applied";
      case STALE_TERM -> "written by the leader of term " + entry.term() + ", committed in term " + logTerm;
      case STALE_SEQUENCE -> entry.persistenceId() + " is at sequence number " + highest + ", the write starts at "
          + entry.firstSequenceNr() + " (built on a stale state)";
      case GAP -> entry.persistenceId() + " is at sequence number " + highest + ", the write starts at "
          + entry.firstSequenceNr() + " or skips one";
    };
  }
}
