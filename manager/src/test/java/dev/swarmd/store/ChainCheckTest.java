package dev.swarmd.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.node.NodeEntity;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChainCheckTest {
  private static final Cause CAUSE = Cause.api("127.0.0.1", "POST /nodes/n1/update");

  /** Five sealed events of one node, as the clock seals them. */
  private static List<ChainCheck.Read> journal() {
    VersionClock clock = new VersionClock();
    List<ChainCheck.Read> out = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      NodeEntity.Event e = new NodeEntity.SpecUpdated(
          new NodeSpec(null, Map.of(), "worker", i % 2 == 0 ? "drain" : "active"), Stamp.of(CAUSE));
      out.add(new ChainCheck.Read("Node|n1", i, clock.seal("Node|n1", e)));
    }
    return out;
  }

  @Test
  void anUntouchedJournalIsIntactWhateverOrderItIsReadIn() {
    List<ChainCheck.Read> j = new ArrayList<>(journal());
    ChainCheck.Result r = ChainCheck.check(j);
    assertTrue(r.intact(), r.toString());
    assertEquals(5, r.events());
    assertEquals(5, r.headIndex());
    assertEquals(((NodeEntity.Event) j.get(4).event()).stamp().link(), r.headLink());
  }

  @Test
  void anAlteredEventIsTheFirstBreak() {
    List<ChainCheck.Read> j = new ArrayList<>(journal());
    NodeEntity.SpecUpdated third = (NodeEntity.SpecUpdated) j.get(2).event();
    j.set(2, new ChainCheck.Read("Node|n1", 3, new NodeEntity.SpecUpdated(
        new NodeSpec(null, Map.of(), "manager", "active"), third.stamp())));
    ChainCheck.Result r = ChainCheck.check(j);
    assertEquals(3, r.broken().event().stamp().index());
    assertTrue(r.reason().startsWith("altered"), r.reason());
    assertEquals(2, r.events());
  }

  @Test
  void aRemovedEventBreaksTheNextOne() {
    List<ChainCheck.Read> j = new ArrayList<>(journal());
    j.remove(1);
    ChainCheck.Result r = ChainCheck.check(j);
    assertEquals(3, r.broken().event().stamp().index());
    assertTrue(r.reason().startsWith("missing"), r.reason());
  }

  @Test
  void swappedSequenceNumbersAreOutOfOrder() {
    List<ChainCheck.Read> j = new ArrayList<>(journal());
    ChainCheck.Read a = j.get(1);
    ChainCheck.Read b = j.get(2);
    j.set(1, new ChainCheck.Read(a.persistenceId(), b.sequenceNr(), a.event()));
    j.set(2, new ChainCheck.Read(b.persistenceId(), a.sequenceNr(), b.event()));
    ChainCheck.Result r = ChainCheck.check(j);
    assertTrue(r.reason().startsWith("out of order"), r.reason());
  }

  @Test
  void theClockGoesOnFromTheJournalsHead() {
    List<ChainCheck.Read> j = journal();
    VersionClock restarted = new VersionClock();
    j.forEach(r -> restarted.observe(r.event().stamp()));
    NodeEntity.Event next = restarted.seal("Node|n1",
        new NodeEntity.StatusChanged("down", null, Stamp.of(Cause.loop("membership", "node unreachable"))));
    List<ChainCheck.Read> longer = new ArrayList<>(j);
    longer.add(new ChainCheck.Read("Node|n1", 6, next));
    ChainCheck.Result r = ChainCheck.check(longer);
    assertNull(r.broken(), r.toString());
    assertEquals(6, r.headIndex());
  }
}
