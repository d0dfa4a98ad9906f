package dev.swarmd.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.store.VersionClock;
import dev.swarmd.endpoint.AddressPool;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** The view a manager folds from the journal equals the entities' own states. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one ActorTestKit for the class, shut down after all tests
@ExtendWith(TestKitJUnit5Extension.class)
@ExtendWith(LogCapturingExtension.class)
class SwarmViewReplayTest {
  private static final Cause CAUSE = Cause.api("test", "replay");

  @JUnit5TestKit
  public ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(Fixtures.entityTestConfig()).build();

  /** One journal entry in write order: what the tag query returns. */
  private record Entry(String persistenceId, Object event) {}

  /** Runs commands against entities and records their events in write order, as the journal does. */
  private static final class Recorder {
    final List<Entry> journal = new ArrayList<>();
    /** Each entity's state after its last command, as the entity holds it. */
    final SwarmView live = new SwarmView();

    <C, E, S, R> S run(EventSourcedBehaviorTestKit<C, E, S> es, String persistenceId, Function<ActorRef<R>, C> cmd) {
      var result = es.<R>runCommand(cmd);
      result.events().forEach(e -> journal.add(new Entry(persistenceId, e)));
      S state = result.state();
      if (state instanceof SwarmEntity.State st) {
        live.put(st);
      } else if (state instanceof NodeEntity.State st) {
        live.put(st);
      } else if (state instanceof ServiceEntity.State st) {
        live.put(st);
      } else if (state instanceof TaskEntity.State st) {
        live.put(st);
      }
      return state;
    }

    SwarmEntity.State swarm(EventSourcedBehaviorTestKit<SwarmEntity.Command, SwarmEntity.Event, SwarmEntity.State> es,
        Function<ActorRef<SwarmEntity.Reply>, SwarmEntity.Command> cmd) {
      return run(es, "Swarm|" + SwarmEntity.ID, cmd);
    }

    NodeEntity.State node(String id,
        EventSourcedBehaviorTestKit<NodeEntity.Command, NodeEntity.Event, NodeEntity.State> es,
        Function<ActorRef<NodeEntity.Reply>, NodeEntity.Command> cmd) {
      return run(es, "Node|" + id, cmd);
    }

    ServiceEntity.State service(String id,
        EventSourcedBehaviorTestKit<ServiceEntity.Command, ServiceEntity.Event, ServiceEntity.State> es,
        Function<ActorRef<ServiceEntity.Reply>, ServiceEntity.Command> cmd) {
      return run(es, "Service|" + id, cmd);
    }

    TaskEntity.State task(String id,
        EventSourcedBehaviorTestKit<TaskEntity.Command, TaskEntity.Event, TaskEntity.State> es,
        Function<ActorRef<TaskEntity.Reply>, TaskEntity.Command> cmd) {
      return run(es, "Task|" + id, cmd);
    }
  }

  @Test
  void replayOfTheJournalYieldsTheEntitiesOwnStates() {
    VersionClock clock = new VersionClock();

    var swarm = EventSourcedBehaviorTestKit.<SwarmEntity.Command, SwarmEntity.Event, SwarmEntity.State>create(
        testKit.system(), SwarmEntity.create(clock));
    swarm.clear();
    var node1 = EventSourcedBehaviorTestKit.<NodeEntity.Command, NodeEntity.Event, NodeEntity.State>create(
        testKit.system(), NodeEntity.create("node1", clock));
    var node2 = EventSourcedBehaviorTestKit.<NodeEntity.Command, NodeEntity.Event, NodeEntity.State>create(
        testKit.system(), NodeEntity.create("node2", clock));
    var web = EventSourcedBehaviorTestKit.<ServiceEntity.Command, ServiceEntity.Event, ServiceEntity.State>create(
        testKit.system(), ServiceEntity.create("svcweb", clock));
    var db = EventSourcedBehaviorTestKit.<ServiceEntity.Command, ServiceEntity.Event, ServiceEntity.State>create(
        testKit.system(), ServiceEntity.create("svcdb", clock));
    var task1 = EventSourcedBehaviorTestKit.<TaskEntity.Command, TaskEntity.Event, TaskEntity.State>create(
        testKit.system(), TaskEntity.create("task1", clock));
    var task2 = EventSourcedBehaviorTestKit.<TaskEntity.Command, TaskEntity.Event, TaskEntity.State>create(
        testKit.system(), TaskEntity.create("task2", clock));

    Recorder rec = new Recorder();
    rec.swarm(swarm, r -> new SwarmEntity.Init("cluster1", SwarmEntity.Settings.defaults(), AddressPool.LEGACY, "PEM", "SWMTKN-w",
        "SWMTKN-m", CAUSE, r));
    rec.node("node1", node1, r -> new NodeEntity.Register(Fixtures.nodeSpec("manager", "active", Map.of()),
        Fixtures.description("h1"), "10.0.0.1", null, "ready", CAUSE, r));
    rec.node("node2", node2, r -> new NodeEntity.Register(Fixtures.nodeSpec("worker", "active", Map.of()),
        Fixtures.description("h2"), "10.0.0.2", null, "ready", CAUSE, r));
    ServiceSpec webSpec = Fixtures.replicated("web", 1);
    long webVersion = rec.service("svcweb", web, r -> new ServiceEntity.Create(webSpec, List.of(), null, CAUSE, r)).version();
    rec.service("svcdb", db, r -> new ServiceEntity.Create(Fixtures.replicated("db", 1), List.of(), null, CAUSE, r));
    TaskEntity.Definition d1 = new TaskEntity.Definition("svcweb", "web", 1, null, webSpec.task(), webVersion,
        TaskState.RUNNING, null, List.of());
    rec.task("task1", task1, r -> new TaskEntity.Create(d1, CAUSE, r));
    rec.task("task2", task2, r -> new TaskEntity.Create(d1, CAUSE, r));
    rec.task("task1", task1, r -> new TaskEntity.Assign("node2", CAUSE, r));
    rec.task("task1", task1, r -> new TaskEntity.Report("node2", TaskEntity.Status.of(TaskState.RUNNING, "started"),
        CAUSE, r));
    rec.node("node2", node2, r -> new NodeEntity.SetStatus("down", "heartbeat failure", CAUSE, r));
    rec.service("svcweb", web, r -> new ServiceEntity.Update(webSpec.withMode(ServiceSpec.Mode.replicated(2)), List.of(),
        null, webVersion, CAUSE, r));
    rec.task("task2", task2, r -> new TaskEntity.Delete(CAUSE, r));
    rec.service("svcdb", db, r -> new ServiceEntity.Remove(CAUSE, r));
    rec.node("node1", node1, r -> new NodeEntity.Remove(CAUSE, r));
    List<Entry> journal = rec.journal;
    SwarmView live = rec.live;

    SwarmView replayed = new SwarmView();
    VersionClock recovered = new VersionClock();
    journal.forEach(e -> recovered.observe(replayed.replay(e.persistenceId(), e.event())));

    assertEquals(14, journal.size());
    assertEquals(clock.current(), recovered.current());
    assertEquals(byId(live.services(), ServiceEntity.State::id), byId(replayed.services(), ServiceEntity.State::id));
    assertEquals(byId(live.tasks(), TaskEntity.State::id), byId(replayed.tasks(), TaskEntity.State::id));
    assertEquals(byId(live.nodes(), NodeEntity.State::id), byId(replayed.nodes(), NodeEntity.State::id));
    assertEquals(live.swarm(), replayed.swarm());
    // What remains: web (updated), task1 (running on node2), node2 (down), and the swarm.
    assertEquals(List.of("svcweb"), List.copyOf(byId(replayed.services(), ServiceEntity.State::id).keySet()));
    assertEquals(List.of("task1"), List.copyOf(byId(replayed.tasks(), TaskEntity.State::id).keySet()));
    assertEquals(List.of("node2"), List.copyOf(byId(replayed.nodes(), NodeEntity.State::id).keySet()));
    assertEquals(2, replayed.service("svcweb").orElseThrow().spec().mode().replicas());
    assertEquals("cluster1", replayed.swarm().clusterId());
    assertEquals(0, replayed.findService("db").matches());
  }

  @Test
  void replayIgnoresEventsOfUnknownEntityTypes() {
    SwarmView view = new SwarmView();
    ServiceEntity.Created created = new ServiceEntity.Created(Fixtures.replicated("web", 1), List.of(),
        new dev.swarmd.store.Stamp(3, Instant.EPOCH, CAUSE));

    assertNull(view.replay("Secret|s1", created));
    assertNull(view.replay("Task|s1", created)); // an event that is not the type's own
    assertTrue(view.services().isEmpty());
    assertEquals(3, view.replay("Service|s1", created).index());
    assertEquals("web", view.service("s1").orElseThrow().spec().name());
  }

  private static <T> Map<String, T> byId(java.util.Collection<T> values, Function<T, String> id) {
    return values.stream().collect(Collectors.toMap(id, Function.identity(), (a, b) -> a, java.util.TreeMap::new));
  }
}
