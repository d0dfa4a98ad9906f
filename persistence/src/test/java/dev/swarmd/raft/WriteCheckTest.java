package dev.swarmd.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** One writer per object, as the managers apply the log. */
class WriteCheckTest {
  private static JournalEntry write(long term, long... seqs) {
    List<JournalEntry.Event> events = java.util.Arrays.stream(seqs)
        .mapToObj(s -> new JournalEntry.Event(s, "", "writer", 0, Set.of(), 20, "", new byte[0]))
        .toList();
    return new JournalEntry(term, "Service|web", events);
  }

  @Test
  void aWriteThatContinuesItsEntitysHistoryInItsLeadersTermIsApplied() {
    assertEquals(WriteCheck.Verdict.APPLY, WriteCheck.judge(write(3, 1), 3, 0));
    assertEquals(WriteCheck.Verdict.APPLY, WriteCheck.judge(write(3, 5, 6, 7), 3, 4));
  }

  @Test
  void twoWritersBuiltOnTheSameStateOnlyTheFirstCommittedIsApplied() {
    // An old leader's entity and the new leader's entity both wrote event 5 of the service.
    JournalEntry first = write(4, 5);
    JournalEntry second = write(4, 5);
    assertEquals(WriteCheck.Verdict.APPLY, WriteCheck.judge(first, 4, 4));
    assertEquals(WriteCheck.Verdict.STALE_SEQUENCE, WriteCheck.judge(second, 4, 5));
  }

  @Test
  void anEntryReplayedAfterARestartIsNotAppliedTwice() {
    assertEquals(WriteCheck.Verdict.STALE_SEQUENCE, WriteCheck.judge(write(2, 3, 4), 2, 4));
  }

  @Test
  void aDeposedLeadersEntryIsRefusedEvenIfItContinuesTheHistory() {
    JournalEntry e = write(3, 5);
    assertEquals(WriteCheck.Verdict.STALE_TERM, WriteCheck.judge(e, 4, 4));
    assertEquals("written by the leader of term 3, committed in term 4", WriteCheck.reason(
        WriteCheck.Verdict.STALE_TERM, e, 4, 4));
  }

  @Test
  void aWriterThatMissedEventsLeavesAGapAndIsRefused() {
    assertEquals(WriteCheck.Verdict.GAP, WriteCheck.judge(write(1, 7), 1, 5));
    assertEquals(WriteCheck.Verdict.GAP, WriteCheck.judge(write(1, 6, 8), 1, 5));
  }
}
