package dev.swarmd.update;

import static dev.swarmd.testsupport.Fixtures.T0;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static dev.swarmd.testsupport.Fixtures.task;
import static dev.swarmd.testsupport.Fixtures.taskSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class UpdaterTest {
  private static final Instant START = T0.plusSeconds(60);
  private static final ServiceEntity.State V1 = service("svc", replicated("web", 3, taskSpec("img:1")), 10);

  /** The service after `service update --image img:2`, with the given update config, in progress since START. */
  private static ServiceEntity.State v2(long parallelism, long delaySeconds, String failureAction, String order) {
    ServiceSpec.UpdatePolicy p = new ServiceSpec.UpdatePolicy(parallelism, Duration.ofSeconds(delaySeconds).toNanos(),
        failureAction, Duration.ofSeconds(5).toNanos(), 0, order);
    ServiceSpec spec = new ServiceSpec("web", Map.of(), taskSpec("img:2"), ServiceSpec.Mode.replicated(3), p, null,
        new ServiceSpec.Endpoint("vip", List.of()));
    return new ServiceEntity.State("svc", true, spec, V1.spec(), 20, T0, START,
        new ServiceEntity.UpdateStatus("updating", START, null, "update in progress"), null, null);
  }

  private static List<TaskEntity.State> oldTasks() {
    List<TaskEntity.State> out = new ArrayList<>();
    for (int slot = 1; slot <= 3; slot++) {
      out.add(task("old" + slot, V1).slot(slot).on("n1").build());
    }
    return out;
  }

  private static Updater.Plan<Integer> plan(ServiceEntity.State s, Map<Integer, List<TaskEntity.State>> bySlot,
      Instant now) {
    List<Integer> slots = IntStream.rangeClosed(1, (int) s.spec().mode().replicas()).boxed().toList();
    return Updater.plan(s, slots, bySlot, now);
  }

  private static Map<Integer, List<TaskEntity.State>> bySlot(List<TaskEntity.State> tasks) {
    return tasks.stream().collect(Collectors.groupingBy(t -> t.definition().slot()));
  }

  /** Slot's old task stopped and a new one (of s's spec) created at `at` in state `state`. */
  private static void replaced(List<TaskEntity.State> tasks, ServiceEntity.State s, int slot, TaskState state,
      Instant at) {
    tasks.removeIf(t -> t.id().equals("old" + slot));
    tasks.add(task("old" + slot, V1).slot(slot).on("n1").desired(TaskState.SHUTDOWN).state(TaskState.SHUTDOWN)
        .build());
    tasks.add(task("new" + slot, s).slot(slot).on("n1").state(state).at(at).build());
  }

  @Test
  void parallelismOneReplacesOneSlotAtATimeLowestFirst() {
    ServiceEntity.State s = v2(1, 0, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();

    assertEquals(Set.of(1), plan(s, bySlot(tasks), START).slots());

    replaced(tasks, s, 1, TaskState.STARTING, START.plusSeconds(1));
    assertEquals(Set.of(), plan(s, bySlot(tasks), START.plusSeconds(2)).slots(), "slot 1 is in flight");

    replaced(tasks, s, 1, TaskState.RUNNING, START.plusSeconds(3));
    assertEquals(Set.of(2), plan(s, bySlot(tasks), START.plusSeconds(3)).slots());
  }

  @Test
  void aSlotWhoseOldTaskIsStillStoppingCountsAsInFlight() {
    ServiceEntity.State s = v2(1, 0, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();
    tasks.removeIf(t -> t.id().equals("old1"));
    tasks.add(task("old1", V1).slot(1).on("n1").desired(TaskState.SHUTDOWN).build());

    assertEquals(Set.of(), plan(s, bySlot(tasks), START).slots());
  }

  @Test
  void aSlotBetweenItsOldTaskStoppingAndItsReplacementBeingCreatedCountsAsInFlight() {
    ServiceEntity.State s = v2(1, 0, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();
    tasks.removeIf(t -> t.id().equals("old1"));
    tasks.add(task("old1", V1).slot(1).on("n1").desired(TaskState.SHUTDOWN).state(TaskState.SHUTDOWN).build());

    assertEquals(Set.of(), plan(s, bySlot(tasks), START).slots());
  }

  @Test
  void theDelayRunsFromTheLastReplacementRunning() {
    ServiceEntity.State s = v2(1, 10, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();
    replaced(tasks, s, 1, TaskState.RUNNING, START.plusSeconds(2));

    assertEquals(Set.of(), plan(s, bySlot(tasks), START.plusSeconds(11)).slots());
    assertEquals(Set.of(2), plan(s, bySlot(tasks), START.plusSeconds(12)).slots());
  }

  @Test
  void parallelismZeroReplacesEverySlotAtOnceAndTwoReplacesTwo() {
    assertEquals(Set.of(1, 2, 3), plan(v2(0, 0, "pause", "stop-first"), bySlot(oldTasks()), START).slots());
    assertEquals(Set.of(1, 2), plan(v2(2, 0, "pause", "stop-first"), bySlot(oldTasks()), START).slots());
  }

  @Test
  void startFirstIsCarriedInThePlan() {
    Updater.Plan plan = plan(v2(1, 0, "pause", "start-first"), bySlot(oldTasks()), START);
    assertTrue(plan.startFirst());
    assertEquals(Set.of(1), plan.slots());
  }

  @Test
  void aFailedNewTaskPausesTheUpdate() {
    ServiceEntity.State s = v2(1, 0, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();
    replaced(tasks, s, 1, TaskState.FAILED, START.plusSeconds(1));

    Updater.Plan plan = plan(s, bySlot(tasks), START.plusSeconds(2));
    assertEquals("pause", plan.failure().action());
    assertEquals("new1", plan.failure().taskId());
    assertEquals(Set.of(), plan.slots());
    assertEquals("update paused due to failure or early termination of task new1",
        plan.failure().status(START, START.plusSeconds(2)).message());
  }

  @Test
  void failureActionRollbackAsksForARollbackAndContinueGoesOn() {
    List<TaskEntity.State> tasks = oldTasks();
    ServiceEntity.State rollback = v2(1, 0, "rollback", "stop-first");
    replaced(tasks, rollback, 1, TaskState.REJECTED, START.plusSeconds(1));
    assertEquals("rollback", plan(rollback, bySlot(tasks), START.plusSeconds(2)).failure().action());

    ServiceEntity.State cont = v2(1, 0, "continue", "stop-first");
    List<TaskEntity.State> tasks2 = oldTasks();
    replaced(tasks2, cont, 1, TaskState.FAILED, START.plusSeconds(1));
    Updater.Plan plan = plan(cont, bySlot(tasks2), START.plusSeconds(2));
    assertNull(plan.failure());
    assertEquals(Set.of(2), plan.slots());
  }

  @Test
  void aPausedUpdateReplacesNothing() {
    ServiceEntity.State s = v2(1, 0, "pause", "stop-first");
    ServiceEntity.State paused = new ServiceEntity.State(s.id(), true, s.spec(), s.previousSpec(), s.version(),
        s.createdAt(), s.updatedAt(), new ServiceEntity.UpdateStatus("paused", START, null, "paused"), null, null);

    assertEquals(Set.of(), plan(paused, bySlot(oldTasks()), START).slots());
  }

  @Test
  void theSamePictureGivesTheSamePlanAsAManagerRestartWould() {
    ServiceEntity.State s = v2(1, 0, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();
    replaced(tasks, s, 1, TaskState.RUNNING, START.plusSeconds(1));
    replaced(tasks, s, 2, TaskState.RUNNING, START.plusSeconds(2));

    Updater.Plan first = plan(s, bySlot(tasks), START.plusSeconds(3));
    Updater.Plan again = plan(s, bySlot(tasks), START.plusSeconds(3));
    assertEquals(Set.of(3), first.slots(), "slots 1 and 2 are done and not replaced twice");
    assertEquals(first, again);
  }

  @Test
  void aNewTaskThatFailsAfterTheMonitorWindowIsNotTheUpdatesFailure() {
    ServiceEntity.State s = v2(1, 0, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();
    tasks.removeIf(t -> t.id().equals("old1"));
    TaskEntity.State ranLong = task("new1", s).slot(1).on("n1").state(TaskState.FAILED).at(START.plusSeconds(20))
        .build();
    TaskEntity.State late = new TaskEntity.State(ranLong.id(), true, ranLong.definition(), ranLong.nodeId(),
        ranLong.desired(), ranLong.status(), ranLong.version(), START.plusSeconds(1), ranLong.updatedAt(),
        START.plusSeconds(2));
    tasks.add(late);

    Updater.Plan<Integer> plan = plan(s, bySlot(tasks), START.plusSeconds(21));
    assertNull(plan.failure(), "failed 18 s after it ran, past the 5 s monitor window: the restart policy's business");

    TaskEntity.State early = new TaskEntity.State(late.id(), true, late.definition(), late.nodeId(), late.desired(),
        late.status(), late.version(), late.createdAt(), late.updatedAt(), START.plusSeconds(17));
    tasks.remove(late);
    tasks.add(early);
    assertEquals("new1", plan(s, bySlot(tasks), START.plusSeconds(21)).failure().taskId(),
        "failed 3 s after it ran: an early termination");
  }

  @Test
  void aGlobalServiceIsUpdatedNodeByNode() {
    ServiceEntity.State v1 = service("svc", Fixtures.global("agent", taskSpec("img:1")), 10);
    ServiceSpec.UpdatePolicy p = new ServiceSpec.UpdatePolicy(1, 0, "pause", 0, 0, "stop-first");
    ServiceSpec spec = new ServiceSpec("agent", Map.of(), taskSpec("img:2"), ServiceSpec.Mode.global(), p, null,
        new ServiceSpec.Endpoint("vip", List.of()));
    ServiceEntity.State s = new ServiceEntity.State("svc", true, spec, v1.spec(), 20, T0, START,
        new ServiceEntity.UpdateStatus("updating", START, null, "update in progress"), null, null);
    Map<String, List<TaskEntity.State>> byNode = new java.util.HashMap<>();
    for (String n : List.of("n1", "n2", "n3")) {
      byNode.put(n, List.of(task("old-" + n, v1).slot(0).on(n).build()));
    }
    List<String> nodes = List.of("n1", "n2", "n3");

    assertEquals(Set.of("n1"), Updater.plan(s, nodes, byNode, START).slots());

    byNode.put("n1", List.of(task("new-n1", s).slot(0).on("n1").state(TaskState.RUNNING).at(START).build()));
    assertEquals(Set.of("n2"), Updater.plan(s, nodes, byNode, START.plusSeconds(1)).slots());
  }

  @Test
  void eachOfParallelismWorkersWaitsTheDelayAfterItsOwnTaskRuns() {
    ServiceEntity.State s = v2(2, 5, "pause", "stop-first");
    List<TaskEntity.State> tasks = oldTasks();
    replaced(tasks, s, 1, TaskState.RUNNING, START.plusSeconds(1));
    replaced(tasks, s, 2, TaskState.STARTING, START.plusSeconds(1));

    assertEquals(Set.of(), plan(s, bySlot(tasks), START.plusSeconds(2)).slots(),
        "slot 1's worker waits out the delay, slot 2's task is still starting");
    assertEquals(Set.of(3), plan(s, bySlot(tasks), START.plusSeconds(6)).slots(),
        "slot 1's worker is free 5 s after its task ran");
  }
}
