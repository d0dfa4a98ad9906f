package dev.swarmd.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.node.NodeEntity.Command;
import dev.swarmd.node.NodeEntity.Event;
import dev.swarmd.node.NodeEntity.Reply;
import dev.swarmd.node.NodeEntity.State;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Failure;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.store.VersionClock;
import dev.swarmd.testsupport.Fixtures;
import dev.swarmd.view.SwarmView;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one ActorTestKit for the class, shut down after all tests
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class NodeEntityTest {
  private static final Cause STARTED = Cause.loop("node", "node started");
  private static final Cause API = Cause.api("test", "POST /nodes/update");
  private static final NodeSpec SPEC = Fixtures.nodeSpec("manager", "active", Map.of());
  private static final NodeDescription DESCRIPTION = Fixtures.description("host-1");

  @JUnit5TestKit
  public ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(Fixtures.entityTestConfig()).build();

  private VersionClock clock;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> es;

  @BeforeEach
  void setUp() {
    clock = new VersionClock();
    clock.observe(10);
    id = Ids.newId();
    es = EventSourcedBehaviorTestKit.create(testKit.system(), NodeEntity.create(id, clock));
  }

  private CommandResultWithReply<Command, Event, State, Reply> register(NodeDescription d, String addr) {
    return es.runCommand(r -> new NodeEntity.Register(SPEC, d, addr, addr + ":2377", "ready", STARTED, r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> updateSpec(NodeSpec spec, long expectedVersion) {
    return es.runCommand(r -> new NodeEntity.UpdateSpec(spec, expectedVersion, API, r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> setStatus(String state, String message) {
    return es.runCommand(r -> new NodeEntity.SetStatus(state, message, Cause.loop("membership", state), r));
  }

  /** The read view as a manager folds it from this entity's persisted events. */
  private SwarmView view() {
    SwarmView v = new SwarmView();
    String pid = "Node|" + id;
    es.persistenceTestKit().persistedInStorage(pid).forEach(e -> v.replay(pid, e));
    return v;
  }

  @Test
  void registerCreatesAReadyNode() {
    var result = register(DESCRIPTION, "10.0.0.1");

    NodeEntity.Registered registered = result.eventOfType(NodeEntity.Registered.class);
    assertEquals(DESCRIPTION, registered.description());
    State s = result.state();
    assertTrue(s.exists());
    assertTrue(s.ready());
    assertEquals("ready", s.statusState());
    assertEquals(SPEC, s.spec());
    assertEquals("10.0.0.1", s.addr());
    assertEquals("10.0.0.1:2377", s.managerAddr());
    assertEquals(11, s.version());
    assertEquals(s, view().node(id).orElseThrow());
  }

  @Test
  void reRegisteringWithTheSameDescriptionPersistsNothing() {
    State first = register(DESCRIPTION, "10.0.0.1").state();

    var again = register(DESCRIPTION, "10.0.0.1");

    assertTrue(again.hasNoEvents());
    assertEquals(first, again.reply().state());
  }

  @Test
  void reRegisteringWithANewDescriptionRefreshesItAndKeepsTheSpec() {
    register(DESCRIPTION, "10.0.0.1");
    State withLabels = updateSpec(Fixtures.nodeSpec("manager", "drain", Map.of("zone", "eu")), 11).state();
    NodeDescription upgraded = new NodeDescription("host-1", "linux", "x86_64", 4_000_000_000L, 8L << 30, "28.0.0",
        Map.of());

    var result = register(upgraded, "10.0.0.2");

    NodeEntity.DescriptionChanged changed = result.eventOfType(NodeEntity.DescriptionChanged.class);
    assertEquals(upgraded, changed.description());
    assertEquals(upgraded, result.state().description());
    assertEquals("10.0.0.2", result.state().addr());
    assertEquals(withLabels.spec(), result.state().spec());
  }

  @Test
  void updateSpecChecksTheVersion() {
    long version = register(DESCRIPTION, "10.0.0.1").state().version();
    NodeSpec drained = Fixtures.nodeSpec("manager", "drain", Map.of("zone", "eu"));

    var stale = updateSpec(drained, version - 1);
    var updated = updateSpec(drained, version);

    assertTrue(stale.hasNoEvents());
    assertEquals(Failure.Kind.OUT_OF_SEQUENCE, stale.reply().failure().kind());
    assertEquals(drained, updated.eventOfType(NodeEntity.SpecUpdated.class).spec());
    assertEquals(drained, updated.state().spec());
    assertEquals(version + 1, updated.state().version());
    assertEquals(DESCRIPTION, updated.state().description());
    assertTrue(updated.state().ready());
  }

  @Test
  void updateSpecOfAnUnknownNodeIsNotFound() {
    assertEquals(Failure.Kind.NOT_FOUND, updateSpec(SPEC, 0).reply().failure().kind());
  }

  @Test
  void setStatusRecordsTheStateOnce() {
    register(DESCRIPTION, "10.0.0.1");

    var down = setStatus("down", "heartbeat failure");
    var again = setStatus("down", "heartbeat failure");
    var up = setStatus("ready", null);

    assertEquals("down", down.eventOfType(NodeEntity.StatusChanged.class).state());
    assertFalse(down.state().ready());
    assertEquals("heartbeat failure", down.state().statusMessage());
    assertTrue(again.hasNoEvents());
    assertTrue(up.state().ready());
    assertNull(up.state().statusMessage());
    assertEquals(up.state(), view().node(id).orElseThrow());
  }

  @Test
  void aRemovedNodeCannotRegisterAgain() {
    register(DESCRIPTION, "10.0.0.1");

    var removed = es.<Reply>runCommand(r -> new NodeEntity.Remove(API, r));
    var again = register(DESCRIPTION, "10.0.0.1");

    assertFalse(removed.state().exists());
    assertTrue(view().node(id).isEmpty());
    assertTrue(again.hasNoEvents());
    assertEquals(Failure.Kind.PRECONDITION, again.reply().failure().kind());
    assertEquals(Failure.Kind.NOT_FOUND, es.<Reply>runCommand(NodeEntity.Get::new).reply().failure().kind());
    assertEquals(Failure.Kind.NOT_FOUND, setStatus("ready", null).reply().failure().kind());
  }

  @Test
  void stateSurvivesRecoveryFromTheJournal() {
    long version = register(DESCRIPTION, "10.0.0.1").state().version();
    updateSpec(Fixtures.nodeSpec("worker", "pause", Map.of("zone", "eu")), version);
    State before = setStatus("down", "heartbeat failure").state();

    assertEquals(before, es.restart().state());
    assertEquals(before, es.<Reply>runCommand(NodeEntity.Get::new).reply().state());
  }
}
