package dev.swarmd.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Failure;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.store.VersionClock;
import dev.swarmd.task.TaskEntity.Command;
import dev.swarmd.task.TaskEntity.Event;
import dev.swarmd.task.TaskEntity.Reply;
import dev.swarmd.task.TaskEntity.State;
import dev.swarmd.task.TaskEntity.Status;
import dev.swarmd.testsupport.Fixtures;
import dev.swarmd.view.SwarmView;
import java.time.Instant;
import java.util.List;
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
class TaskEntityTest {
  private static final Cause ORCHESTRATOR = Cause.loop("orchestrator", "reconcile: slot has no task");
  private static final Cause SCHEDULER = Cause.loop("scheduler", "placement");
  private static final Cause AGENT = Cause.loop("agent:node-1", "status");

  @JUnit5TestKit
  public ActorTestKit testKit = new JUnit5TestKitBuilder().withCustomConfig(Fixtures.entityTestConfig()).build();

  private VersionClock clock;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> es;

  @BeforeEach
  void setUp() {
    clock = new VersionClock();
    id = Ids.newId();
    es = EventSourcedBehaviorTestKit.create(testKit.system(), TaskEntity.create(id, clock));
  }

  private static TaskEntity.Definition definition(String nodeId) {
    return new TaskEntity.Definition("svc-1", "web", nodeId == null ? 1 : 0, nodeId, Fixtures.taskSpec("nginx:1"),
        7, TaskState.RUNNING, null, List.of());
  }

  private CommandResultWithReply<Command, Event, State, Reply> create(String nodeId) {
    return es.runCommand(r -> new TaskEntity.Create(definition(nodeId), ORCHESTRATOR, r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> assign(String nodeId) {
    return es.runCommand(r -> new TaskEntity.Assign(nodeId, SCHEDULER, r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> report(String nodeId, TaskState state) {
    Status status = new Status(state, state.apiName(), null, Instant.now(), "c0ffee", null, 4242, null, null);
    return es.runCommand(r -> new TaskEntity.Report(nodeId, status, AGENT, r));
  }

  private CommandResultWithReply<Command, Event, State, Reply> pendingWithErr(String err) {
    Status status = new Status(TaskState.PENDING, "pending task scheduling", err, Instant.now(), null, null, null, null, null);
    return es.runCommand(r -> new TaskEntity.Report(null, status, SCHEDULER, r));
  }

  /** The read view as a manager folds it from this entity's persisted events. */
  private SwarmView view() {
    SwarmView v = new SwarmView();
    String pid = "Task|" + id;
    es.persistenceTestKit().persistedInStorage(pid).forEach(e -> v.replay(pid, e));
    return v;
  }

  @Test
  void createWithoutNodeIsPending() {
    var result = create(null);

    TaskEntity.Created created = result.eventOfType(TaskEntity.Created.class);
    assertEquals(definition(null), created.definition());
    State s = result.state();
    assertTrue(s.exists());
    assertEquals(TaskState.PENDING, s.state());
    assertEquals("pending task scheduling", s.status().message());
    assertNull(s.nodeId());
    assertEquals(TaskState.RUNNING, s.desired());
    assertEquals(1, s.version());
    assertEquals(s, result.reply().state());
  }

  @Test
  void createWithANodeInTheDefinitionIsAssigned() {
    State s = create("node-1").state();

    assertEquals(TaskState.ASSIGNED, s.state());
    assertEquals("node-1", s.nodeId());
    assertEquals("scheduler assigned task to node", s.status().message());
  }

  @Test
  void createTwiceIsAConflict() {
    create(null);
    var again = create("node-1");

    assertTrue(again.hasNoEvents());
    assertEquals(Failure.Kind.CONFLICT, again.reply().failure().kind());
  }

  @Test
  void assignMovesAPendingTaskToItsNode() {
    create(null);

    var result = assign("node-1");

    TaskEntity.Assigned assigned = result.eventOfType(TaskEntity.Assigned.class);
    assertEquals("node-1", assigned.nodeId());
    assertEquals(TaskState.ASSIGNED, result.state().state());
    assertEquals("node-1", result.state().nodeId());
    assertEquals(2, result.state().version());
  }

  @Test
  void assignTwiceIsAConflict() {
    create(null);
    assign("node-1");

    var again = assign("node-2");

    assertTrue(again.hasNoEvents());
    assertEquals(Failure.Kind.CONFLICT, again.reply().failure().kind());
    assertEquals("node-1", es.getState().nodeId());
  }

  @Test
  void assignOfAnUnknownTaskIsNotFound() {
    assertEquals(Failure.Kind.NOT_FOUND, assign("node-1").reply().failure().kind());
  }

  @Test
  void statusMovesForward() {
    create("node-1");

    var accepted = report("node-1", TaskState.ACCEPTED);
    var running = report("node-1", TaskState.RUNNING);

    assertInstanceOf(TaskEntity.StatusChanged.class, accepted.event());
    assertEquals(TaskState.RUNNING, running.state().state());
    assertEquals("c0ffee", running.state().status().containerId());
    assertEquals(4242, running.state().status().pid());
  }

  @Test
  void aReportOfAnOlderStateIsIgnored() {
    create("node-1");
    report("node-1", TaskState.RUNNING);

    var older = report("node-1", TaskState.STARTING);

    assertTrue(older.hasNoEvents());
    assertNull(older.reply().failure());
    assertEquals(TaskState.RUNNING, older.reply().state().state());
    assertEquals(TaskState.RUNNING, es.getState().state());
  }

  @Test
  void aRepeatedReportOfTheSameStateIsIgnored() {
    create("node-1");
    report("node-1", TaskState.RUNNING);

    assertTrue(report("node-1", TaskState.RUNNING).hasNoEvents());
  }

  @Test
  void aTerminalStateIsFinal() {
    create("node-1");
    report("node-1", TaskState.FAILED);

    assertTrue(report("node-1", TaskState.RUNNING).hasNoEvents());
    assertTrue(report("node-1", TaskState.COMPLETE).hasNoEvents());
    assertEquals(TaskState.FAILED, es.getState().state());
  }

  @Test
  void aReportFromAnotherNodeIsRefused() {
    create("node-1");

    var result = report("node-2", TaskState.RUNNING);

    assertTrue(result.hasNoEvents());
    assertEquals(Failure.Kind.PRECONDITION, result.reply().failure().kind());
    assertEquals(TaskState.ASSIGNED, es.getState().state());
  }

  @Test
  void anAgentReportForAnUnassignedTaskIsRefused() {
    create(null);

    var result = report("node-1", TaskState.RUNNING);

    assertTrue(result.hasNoEvents());
    assertEquals(Failure.Kind.PRECONDITION, result.reply().failure().kind());
  }

  @Test
  void aManagerReportNeedsNoNode() {
    create("node-1");

    var result = report(null, TaskState.ORPHANED);

    assertEquals(TaskState.ORPHANED, result.state().state());
  }

  @Test
  void aPendingTaskMayChangeItsErrInPlace() {
    create(null);

    var first = pendingWithErr("no suitable node (1 node not available for new tasks)");
    var same = pendingWithErr("no suitable node (1 node not available for new tasks)");
    var other = pendingWithErr("no suitable node (scheduling constraints not satisfied on 2 nodes)");

    assertInstanceOf(TaskEntity.StatusChanged.class, first.event());
    assertTrue(same.hasNoEvents());
    assertEquals(1, other.events().size());
    assertEquals(TaskState.PENDING, other.state().state());
    assertEquals("no suitable node (scheduling constraints not satisfied on 2 nodes)", other.state().status().err());
  }

  @Test
  void anAssignedTaskKeepsItsStatusWhenTheSameStateComesWithAnotherErr() {
    create("node-1");
    Status status = new Status(TaskState.ASSIGNED, "assigned", "some err", Instant.now(), null, null, null, null, null);

    var result = es.<Reply>runCommand(r -> new TaskEntity.Report("node-1", status, AGENT, r));

    assertTrue(result.hasNoEvents());
    assertNull(es.getState().status().err());
  }

  @Test
  void setDesiredChangesTheDesiredStateOnce() {
    create("node-1");

    var shutdown = es.<Reply>runCommand(r -> new TaskEntity.SetDesired(TaskState.SHUTDOWN, ORCHESTRATOR, r));
    var again = es.<Reply>runCommand(r -> new TaskEntity.SetDesired(TaskState.SHUTDOWN, ORCHESTRATOR, r));

    assertEquals(TaskState.SHUTDOWN, shutdown.eventOfType(TaskEntity.DesiredChanged.class).desired());
    assertEquals(TaskState.SHUTDOWN, shutdown.state().desired());
    assertEquals(TaskState.ASSIGNED, shutdown.state().state());
    assertTrue(again.hasNoEvents());
    assertEquals(TaskState.SHUTDOWN, again.reply().state().desired());
  }

  @Test
  void deletedTaskIsNotFoundAndCannotBeCreatedAgain() {
    create("node-1");

    var deleted = es.<Reply>runCommand(r -> new TaskEntity.Delete(ORCHESTRATOR, r));

    assertInstanceOf(TaskEntity.Deleted.class, deleted.event());
    assertFalse(deleted.state().exists());
    assertEquals(Failure.Kind.NOT_FOUND, es.<Reply>runCommand(TaskEntity.Get::new).reply().failure().kind());
    assertEquals(Failure.Kind.NOT_FOUND, report("node-1", TaskState.RUNNING).reply().failure().kind());
    assertEquals(Failure.Kind.CONFLICT, create(null).reply().failure().kind());
  }

  @Test
  void stateSurvivesRecoveryFromTheJournal() {
    create(null);
    assign("node-1");
    report("node-1", TaskState.RUNNING);
    State before = es.<Reply>runCommand(r -> new TaskEntity.SetDesired(TaskState.SHUTDOWN, ORCHESTRATOR, r)).state();

    State recovered = es.restart().state();

    assertEquals(before, recovered);
    assertEquals(4, recovered.version());
  }

  @Test
  void stateSurvivesRecoveryFromASnapshotAndLaterEvents() {
    create(null);
    for (int i = 0; i < 24; i++) { // 25 events: a snapshot is taken at 20
      pendingWithErr("no suitable node (" + i + ")");
    }
    State before = es.getState();
    var snapshots = es.snapshotTestKit().orElseThrow().persistedInStorage("Task|" + id);

    State recovered = es.restart().state();

    assertEquals(List.of(20L), snapshots.stream().map(p -> p.first().sequenceNr()).toList());
    assertEquals(25, before.version());
    assertEquals(before, recovered);
  }

  @Test
  void theViewFollowsTheTask() {
    State created = create(null).state();
    assertEquals(created, view().task(id).orElseThrow());
    assertEquals(1, view().tasksOf("svc-1").size());

    State assigned = assign("node-1").state();
    assertEquals(assigned, view().task(id).orElseThrow());

    es.<Reply>runCommand(r -> new TaskEntity.Delete(ORCHESTRATOR, r));
    assertTrue(view().task(id).isEmpty());
    assertTrue(view().tasksOf("svc-1").isEmpty());
  }
}
