package dev.swarmd.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.swarmd.raft.ClusterJoin.Action;
import dev.swarmd.raft.ClusterJoin.Ask;
import dev.swarmd.raft.ClusterJoin.Form;
import dev.swarmd.raft.ClusterJoin.Restart;
import dev.swarmd.raft.ClusterJoin.Situation;
import dev.swarmd.raft.ClusterJoin.State;
import dev.swarmd.raft.ClusterJoin.Step;
import dev.swarmd.raft.ClusterJoin.Wait;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;

class ClusterJoinTest {
  private static final Address M1 = manager(1);
  private static final Address M2 = manager(2);
  private static final Address M3 = manager(3);

  private static Address manager(int n) {
    return new Address("pekko", "swarm", "127.0.0." + (n + 1), 7946);
  }

  /** M1's view at a time (seconds), not yet let into a cluster. */
  private static Situation outside(long second, Optional<Address> leader, boolean leading) {
    return new Situation(false, M1, List.of(M2, M3), leader, leading, Set.of(), second * 1000);
  }

  private static Situation inside(long second, Optional<Address> leader, Set<Address> members) {
    return new Situation(true, M1, List.of(M2, M3), leader, false, members, second * 1000);
  }

  /** Runs the ticks in order and gives each one's action. */
  private static List<Action> run(Situation... ticks) {
    State s = State.start(ticks[0].nowMillis());
    List<Action> actions = new java.util.ArrayList<>();
    for (Situation t : ticks) {
      Step step = ClusterJoin.step(s, t);
      s = step.next();
      actions.add(step.action());
    }
    return actions;
  }

  @Test
  void theOnlyManagerFormsTheClusterAtOnce() {
    Situation alone = new Situation(false, M1, List.of(), Optional.of(M1), true, Set.of(), 0);
    assertInstanceOf(Form.class, ClusterJoin.step(State.start(0), alone).action());
  }

  @Test
  void aFollowerAsksTheLeaderOnlyAndAsksAgainOnlyWhenLeadershipMoves() {
    List<Action> actions = run(outside(0, Optional.of(M2), false), outside(1, Optional.of(M2), false),
        outside(30, Optional.of(M2), false), outside(31, Optional.of(M3), false));
    assertEquals(new Ask(List.of(M2)), actions.get(0));
    assertInstanceOf(Wait.class, actions.get(1));
    assertInstanceOf(Wait.class, actions.get(2), "a follower never forms a cluster of its own, however long it waits");
    assertEquals(new Ask(List.of(M3)), actions.get(3));
  }

  @Test
  void withoutALeaderAManagerAsksEveryOtherManagerAndNeverFormsAlone() {
    List<Action> actions = run(outside(0, Optional.empty(), false), outside(60, Optional.empty(), false));
    assertEquals(new Ask(List.of(M2, M3)), actions.get(0));
    assertInstanceOf(Wait.class, actions.get(1));
  }

  @Test
  void aLeaderAsksTheOthersFirstAndFormsTheClusterWhenNoneLetsItIn() {
    List<Action> actions = run(outside(0, Optional.of(M1), true), outside(4, Optional.of(M1), true),
        outside(5, Optional.of(M1), true));
    assertEquals(new Ask(List.of(M2, M3)), actions.get(0));
    assertInstanceOf(Wait.class, actions.get(1));
    assertInstanceOf(Form.class, actions.get(2));
  }

  @Test
  void aFollowerWhoseClusterLacksTheLeaderLeavesItAfterFifteenSeconds() {
    List<Action> actions = run(inside(0, Optional.of(M2), Set.of(M1, M3)), inside(14, Optional.of(M2), Set.of(M1, M3)),
        inside(15, Optional.of(M2), Set.of(M1, M3)));
    assertInstanceOf(Wait.class, actions.get(0));
    assertInstanceOf(Wait.class, actions.get(1));
    assertEquals(new Restart(M2), actions.get(2));
  }

  @Test
  void aLeaderThatComesIntoTheClusterEndsTheWait() {
    List<Action> actions = run(inside(0, Optional.of(M2), Set.of(M1)), inside(10, Optional.of(M2), Set.of(M1, M2)),
        inside(20, Optional.of(M2), Set.of(M1)), inside(30, Optional.of(M2), Set.of(M1)));
    assertInstanceOf(Wait.class, actions.get(1));
    assertInstanceOf(Wait.class, actions.get(2), "the fifteen seconds count from when the leader went missing again");
    assertInstanceOf(Wait.class, actions.get(3));
  }

  @Test
  void aClusterWithoutAKnownLeaderIsLeftAlone() {
    List<Action> actions = run(inside(0, Optional.empty(), Set.of(M1)), inside(60, Optional.empty(), Set.of(M1)));
    assertInstanceOf(Wait.class, actions.get(0));
    assertInstanceOf(Wait.class, actions.get(1));
  }
}
