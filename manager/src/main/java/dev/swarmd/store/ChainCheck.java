package dev.swarmd.store;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks the journal's hash chain: walks the events in Version.Index order and recomputes each
 * link. The first event whose link does not follow is where the journal was altered, lost events
 * or was reordered. A cut-off tail leaves no trace in the chain itself: compare the head (index and
 * link) with one kept elsewhere.
 */
public final class ChainCheck {
  /** One event as read from the journal. */
  public record Read(String persistenceId, long sequenceNr, Sealable<?> event) {}

  /** events: how many were checked; unsealed: how many came before the chain existed (no link). */
  public record Result(int events, int unsealed, long headIndex, String headLink, Read broken, String reason) {
    public boolean intact() {
      return broken == null;
    }
  }

  private ChainCheck() {}

  @SuppressWarnings({"unchecked", "rawtypes"})
  public static Result check(List<Read> journal) {
    List<Read> byIndex = journal.stream()
        .sorted(Comparator.comparingLong(r -> r.event().stamp().index()))
        .toList();
    Map<String, Long> lastSeq = new HashMap<>();
    String head = Links.GENESIS;
    long headIndex = 0;
    int unsealed = 0;
    int checked = 0;
    for (Read r : byIndex) {
      Stamp s = r.event().stamp();
      Long seq = lastSeq.put(r.persistenceId(), r.sequenceNr());
      if (seq != null && seq > r.sequenceNr()) {
        return new Result(checked, unsealed, headIndex, head, r, "out of order: sequence number " + r.sequenceNr()
            + " of " + r.persistenceId() + " comes after " + seq + " in index order");
      }
      if (s.link() == null) {
        if (checked > 0) {
          return new Result(checked, unsealed, headIndex, head, r, "no link, after linked events");
        }
        unsealed++;
        continue;
      }
      String expected = Links.link(head, r.persistenceId(), (Sealable) r.event());
      if (!expected.equals(s.link())) {
        boolean firstAfterUnsealed = checked == 0 && unsealed > 0;
        String reason = s.index() != headIndex + 1 && !firstAfterUnsealed
            ? "missing event(s): the index jumps from " + headIndex + " to " + s.index()
            : "altered: its content or link is not what was written";
        return new Result(checked, unsealed, headIndex, head, r, reason);
      }
      head = s.link();
      headIndex = s.index();
      checked++;
    }
    return new Result(checked, unsealed, headIndex, head, null, null);
  }
}
