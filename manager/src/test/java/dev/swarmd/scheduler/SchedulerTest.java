package dev.swarmd.scheduler;

import static dev.swarmd.testsupport.Fixtures.T0;
import static dev.swarmd.testsupport.Fixtures.node;
import static dev.swarmd.testsupport.Fixtures.readyNode;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static dev.swarmd.testsupport.Fixtures.task;
import static dev.swarmd.testsupport.Fixtures.taskSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.scheduler.Scheduler.Decision;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulerTest {
  private static final Instant NOW = T0.plusSeconds(600);
  private static final ServiceEntity.State WEB = service("svc-web", replicated("web", 3), 1);
  private static final ServiceEntity.State API = service("svc-api", replicated("api", 3), 1);

  private static TaskEntity.State pending(String id, ServiceEntity.State s, int slot) {
    return task(id, s).slot(slot).at(T0.plusSeconds(slot)).state(TaskState.PENDING).build();
  }

  private static TaskEntity.State running(String id, ServiceEntity.State s, String nodeId) {
    return task(id, s).on(nodeId).build();
  }

  private static ServiceEntity.State withPlacement(List<String> constraints, long maxReplicas) {
    return service("svc-web", replicated("web", 3, taskSpec("nginx:1", null,
        new ServiceSpec.Placement(constraints, maxReplicas))), 1);
  }

  private static List<Decision> schedule(List<TaskEntity.State> tasks, List<NodeEntity.State> nodes) {
    return Scheduler.schedule(tasks, nodes, NOW);
  }

  @Test
  void pendingTasksSpreadOverIdleNodes() {
    List<TaskEntity.State> tasks = List.of(pending("p1", WEB, 1), pending("p2", WEB, 2), pending("p3", WEB, 3));

    List<Decision> decisions = schedule(tasks, List.of(readyNode("n3"), readyNode("n1"), readyNode("n2")));

    assertEquals(List.of(new Decision("p1", "n1", null), new Decision("p2", "n2", null),
        new Decision("p3", "n3", null)), decisions);
  }

  @Test
  void fewestTasksOfTheServiceFirstThenFewestOverall() {
    List<TaskEntity.State> tasks = List.of(
        running("a1", API, "n1"), running("a2", API, "n1"),
        running("w1", WEB, "n2"),
        pending("p2", WEB, 2), pending("p3", WEB, 3));

    List<Decision> decisions = schedule(tasks, List.of(readyNode("n1"), readyNode("n2"), readyNode("n3")));

    // p2: n1 and n3 have no web task; n3 has fewer tasks. p3: only n1 has no web task left.
    assertEquals(List.of(new Decision("p2", "n3", null), new Decision("p3", "n1", null)), decisions);
  }

  @Test
  void endedOrStoppingTasksDoNotWeighOnANode() {
    List<TaskEntity.State> tasks = List.of(
        task("f1", WEB).on("n1").state(TaskState.FAILED).desired(TaskState.SHUTDOWN).build(),
        task("s1", WEB).on("n1").desired(TaskState.SHUTDOWN).build(),
        running("a1", API, "n2"),
        pending("p1", WEB, 1));

    assertEquals(List.of(new Decision("p1", "n1", null)),
        schedule(tasks, List.of(readyNode("n1"), readyNode("n2"))));
  }

  @Test
  void drainedPausedAndDownNodesAreSkipped() {
    List<NodeEntity.State> nodes = List.of(
        node("n1", "h1", "worker", "drain", "ready", Map.of()),
        node("n2", "h2", "worker", "pause", "ready", Map.of()),
        node("n3", "h3", "worker", "active", "down", Map.of()),
        readyNode("n4"));

    List<Decision> decisions = schedule(List.of(pending("p1", WEB, 1), pending("p2", WEB, 2)), nodes);

    assertEquals(List.of(new Decision("p1", "n4", null), new Decision("p2", "n4", null)), decisions);
  }

  @Test
  void withNoAvailableNodeTheTaskStaysPendingWithSwarmkitsReason() {
    NodeEntity.State drained = node("n1", "h1", "worker", "drain", "ready", Map.of());

    assertEquals(List.of(new Decision("p1", null, "no suitable node (1 node not available for new tasks)")),
        schedule(List.of(pending("p1", WEB, 1)), List.of(drained)));
    assertEquals(List.of(new Decision("p1", null, "no suitable node (3 nodes not available for new tasks)")),
        schedule(List.of(pending("p1", WEB, 1)), List.of(drained,
            node("n2", "h2", "worker", "pause", "ready", Map.of()),
            node("n3", "h3", "worker", "active", "down", Map.of()))));
    assertEquals(List.of(new Decision("p1", null, "no suitable node")),
        schedule(List.of(pending("p1", WEB, 1)), List.of()));
  }

  @Test
  void hostnameConstraintPicksThatNode() {
    ServiceEntity.State s = withPlacement(List.of("node.hostname==host-n2"), 0);
    List<TaskEntity.State> tasks = List.of(pending("p1", s, 1), pending("p2", s, 2));

    List<Decision> decisions = schedule(tasks, List.of(readyNode("n1"), readyNode("n2"), readyNode("n3")));

    assertEquals(List.of(new Decision("p1", "n2", null), new Decision("p2", "n2", null)), decisions);
  }

  @Test
  void roleConstraintExcludesManagers() {
    ServiceEntity.State s = withPlacement(List.of("node.role!=manager"), 0);
    NodeEntity.State manager = node("n1", "h1", "manager", "active", "ready", Map.of());
    NodeEntity.State worker = node("n2", "h2", "worker", "active", "ready", Map.of());

    assertEquals(List.of(new Decision("p1", "n2", null)),
        schedule(List.of(pending("p1", s, 1)), List.of(manager, worker)));
  }

  @Test
  void labelConstraintPicksTheLabelledNode() {
    ServiceEntity.State s = withPlacement(List.of("node.labels.zone==eu"), 0);
    List<NodeEntity.State> nodes = List.of(
        node("n1", "h1", "worker", "active", "ready", Map.of("zone", "us")),
        node("n2", "h2", "worker", "active", "ready", Map.of()),
        node("n3", "h3", "worker", "active", "ready", Map.of("zone", "eu")));

    assertEquals(List.of(new Decision("p1", "n3", null)), schedule(List.of(pending("p1", s, 1)), nodes));
  }

  @Test
  void unmatchedConstraintsAreCountedInTheReason() {
    ServiceEntity.State s = withPlacement(List.of("node.labels.zone==eu"), 0);
    List<NodeEntity.State> nodes = List.of(
        node("n1", "h1", "worker", "drain", "ready", Map.of("zone", "eu")),
        readyNode("n2"), readyNode("n3"));

    assertEquals(List.of(new Decision("p1", null,
            "no suitable node (1 node not available for new tasks; scheduling constraints not satisfied on 2 nodes)")),
        schedule(List.of(pending("p1", s, 1)), nodes));
  }

  @Test
  void maxReplicasPerNodeIsRespected() {
    ServiceEntity.State s = withPlacement(null, 1);
    List<TaskEntity.State> tasks = List.of(pending("p1", s, 1), pending("p2", s, 2), pending("p3", s, 3));

    List<Decision> decisions = schedule(tasks, List.of(readyNode("n1"), readyNode("n2")));

    assertEquals(List.of(new Decision("p1", "n1", null), new Decision("p2", "n2", null),
        new Decision("p3", null, "no suitable node (max replicas per node limit exceed on 2 nodes)")), decisions);
  }

  @Test
  void maxReplicasCountsTheTasksAlreadyRunning() {
    ServiceEntity.State s = withPlacement(null, 2);
    List<TaskEntity.State> tasks = new ArrayList<>(List.of(running("r1", s, "n1"), running("r2", s, "n1"),
        running("r3", s, "n2")));
    tasks.add(pending("p1", s, 4));
    tasks.add(pending("p2", s, 5));

    assertEquals(List.of(new Decision("p1", "n2", null),
            new Decision("p2", null, "no suitable node (max replicas per node limit exceed on 2 nodes)")),
        schedule(tasks, List.of(readyNode("n1"), readyNode("n2"))));
  }

  @Test
  void aTaskWaitingForItsRestartDelayIsNotScheduled() {
    List<TaskEntity.State> tasks = List.of(
        task("later", WEB).slot(1).state(TaskState.PENDING).notBefore(NOW.plusSeconds(3)).build(),
        task("due", WEB).slot(2).state(TaskState.PENDING).notBefore(NOW).build(),
        task("past", WEB).slot(3).state(TaskState.PENDING).notBefore(NOW.minusSeconds(3)).build());

    List<Decision> decisions = schedule(tasks, List.of(readyNode("n1"), readyNode("n2")));

    assertEquals(List.of("due", "past"), decisions.stream().map(Decision::taskId).sorted().toList());
  }

  @Test
  void onlyPendingTasksThatShouldRunAreScheduled() {
    List<TaskEntity.State> tasks = List.of(
        task("assigned", WEB).slot(1).on("n1").state(TaskState.ASSIGNED).build(),
        task("unwanted", WEB).slot(2).state(TaskState.PENDING).desired(TaskState.SHUTDOWN).build(),
        task("removed", WEB).slot(3).state(TaskState.PENDING).desired(TaskState.REMOVE).build());

    assertTrue(schedule(tasks, List.of(readyNode("n1"))).isEmpty());
  }

  @Test
  void olderTasksArePlacedFirst() {
    ServiceEntity.State s = withPlacement(null, 1);
    List<TaskEntity.State> tasks = List.of(
        task("young", s).slot(1).state(TaskState.PENDING).at(T0.plusSeconds(5)).build(),
        task("old", s).slot(2).state(TaskState.PENDING).at(T0).build());

    List<Decision> decisions = schedule(tasks, List.of(readyNode("n1")));

    assertEquals(new Decision("old", "n1", null), decisions.get(0));
    assertEquals("young", decisions.get(1).taskId());
  }
}
