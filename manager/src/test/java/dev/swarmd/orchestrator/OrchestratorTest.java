package dev.swarmd.orchestrator;

import static dev.swarmd.testsupport.Fixtures.T0;
import static dev.swarmd.testsupport.Fixtures.node;
import static dev.swarmd.testsupport.Fixtures.readyNode;
import static dev.swarmd.testsupport.Fixtures.replicated;
import static dev.swarmd.testsupport.Fixtures.service;
import static dev.swarmd.testsupport.Fixtures.task;
import static dev.swarmd.testsupport.Fixtures.taskSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.scheduler.Scheduler;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.testsupport.Fixtures;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class OrchestratorTest {
  private static final long HISTORY = 5;
  private static final Instant NOW = T0.plusSeconds(600);
  private static final NodeEntity.State N1 = readyNode("n1");
  private static final NodeEntity.State N2 = readyNode("n2");

  private static List<Orchestrator.Action> reconcile(List<ServiceEntity.State> services,
      List<NodeEntity.State> nodes, List<TaskEntity.State> tasks) {
    return Orchestrator.reconcile(services, nodes, tasks, HISTORY, NOW);
  }

  /**
   * Task actions in a form that reads: "create slot 2", "create node n1", "shutdown t1", "remove t2",
   * "delete t3". Rollout status changes are checked on their own.
   */
  private static Set<String> summary(List<Orchestrator.Action> all) {
    List<Orchestrator.Action> actions =
        all.stream().filter(a -> !(a instanceof Orchestrator.SetUpdateStatus)).toList();
    Set<String> out = new HashSet<>();
    for (Orchestrator.Action a : actions) {
      if (a instanceof Orchestrator.CreateTask c) {
        int slot = c.definition().slot();
        out.add(slot > 0 ? "create slot " + slot : "create node " + c.definition().nodeId());
      } else if (a instanceof Orchestrator.SetDesired s) {
        out.add(s.desired().apiName() + " " + s.taskId());
      } else if (a instanceof Orchestrator.DeleteTask d) {
        out.add("delete " + d.taskId());
      }
    }
    assertEquals(actions.size(), out.size(), () -> "duplicate actions: " + actions);
    return out;
  }

  private static List<String> statuses(List<Orchestrator.Action> actions) {
    return actions.stream().filter(a -> a instanceof Orchestrator.SetUpdateStatus)
        .map(a -> ((Orchestrator.SetUpdateStatus) a).status().state()).toList();
  }

  private static ServiceEntity.State withStatus(ServiceEntity.State s, String state) {
    return new ServiceEntity.State(s.id(), true, s.spec(), s.previousSpec(), s.version(), s.createdAt(),
        s.updatedAt(), new ServiceEntity.UpdateStatus(state, s.updatedAt(), null, "test"), null, null);
  }

  private static List<Orchestrator.CreateTask> creates(List<Orchestrator.Action> actions) {
    return actions.stream().filter(a -> a instanceof Orchestrator.CreateTask)
        .map(a -> (Orchestrator.CreateTask) a).toList();
  }

  private static ServiceEntity.State webWith(long replicas, ServiceSpec.RestartPolicy restart) {
    return service("svc-web", replicated("web", replicas, taskSpec("nginx:1", restart, null)), 10);
  }

  @Nested
  class Replicated {
    private final ServiceEntity.State web = service("svc-web", replicated("web", 3), 10);

    @Test
    void aServiceWithoutTasksGetsOneTaskPerSlot() {
      List<Orchestrator.Action> actions = reconcile(List.of(web), List.of(N1), List.of());

      assertEquals(Set.of("create slot 1", "create slot 2", "create slot 3"), summary(actions));
      for (Orchestrator.CreateTask c : creates(actions)) {
        TaskEntity.Definition d = c.definition();
        assertEquals("svc-web", d.serviceId());
        assertEquals("web", d.serviceName());
        assertNull(d.nodeId());
        assertEquals(web.spec().task(), d.spec());
        assertEquals(10, d.specVersion());
        assertEquals(TaskState.RUNNING, d.desired());
        assertNull(d.notBefore());
        assertEquals(25, c.taskId().length());
      }
      assertEquals(3, creates(actions).stream().map(Orchestrator.CreateTask::taskId).distinct().count());
    }

    @Test
    void slotsWithALiveTaskNeedNothing() {
      List<TaskEntity.State> tasks = List.of(
          task("t1", web).slot(1).on("n1").build(),
          task("t2", web).slot(2).state(TaskState.PENDING).build(),
          task("t3", web).slot(3).on("n2").state(TaskState.ASSIGNED).build());

      assertTrue(reconcile(List.of(web), List.of(N1, N2), tasks).isEmpty());
    }

    @Test
    void onlyTheMissingSlotIsFilled() {
      List<TaskEntity.State> tasks = List.of(
          task("t1", web).slot(1).on("n1").build(),
          task("t3", web).slot(3).on("n1").build());

      assertEquals(Set.of("create slot 2"), summary(reconcile(List.of(web), List.of(N1), tasks)));
    }

    @Test
    void scalingDownRetiresTheSlotsAboveTheReplicaCount() {
      ServiceEntity.State one = service("svc-web", web.spec().withMode(ServiceSpec.Mode.replicated(1)), 11);
      List<TaskEntity.State> tasks = List.of(
          task("t1", one).slot(1).on("n1").build(),
          task("t2", one).slot(2).on("n1").build(),
          task("t3", one).slot(3).on("n1").desired(TaskState.SHUTDOWN).state(TaskState.FAILED).build());

      List<Orchestrator.Action> actions = reconcile(List.of(one), List.of(N1), tasks);

      assertEquals(Set.of("remove t2", "delete t3"), summary(actions));
      assertTrue(actions.stream().allMatch(a -> a.reason().equals("service scaled down")));
    }

    @Test
    void aRetiredTaskIsDeletedOnceItStopsOrNobodyRunsIt() {
      ServiceEntity.State one = service("svc-web", web.spec().withMode(ServiceSpec.Mode.replicated(1)), 11);
      NodeEntity.State down = node("n2", "host-n2", "worker", "active", "down", Map.of());
      List<TaskEntity.State> tasks = List.of(
          task("t1", one).slot(1).on("n1").build(),
          task("t2", one).slot(2).on("n1").desired(TaskState.REMOVE).build(), // still stopping: wait
          task("t3", one).slot(3).on("n1").desired(TaskState.REMOVE).state(TaskState.SHUTDOWN).build(),
          task("t4", one).slot(4).state(TaskState.PENDING).build(),
          task("t5", one).slot(5).on("n2").build());

      assertEquals(Set.of("delete t3", "delete t4", "delete t5"),
          summary(reconcile(List.of(one), List.of(N1, down), tasks)));
    }

    @Test
    void aTaskWhoseSpecDiffersFromTheServiceIsShutDown() {
      ServiceEntity.State updated = service("svc-web", replicated("web", 1, taskSpec("nginx:2")), 12);
      TaskEntity.State old = task("t1", web).slot(1).on("n1").build();

      List<Orchestrator.Action> actions = reconcile(List.of(updated), List.of(N1), List.of(old));

      assertTrue(actions.contains(new Orchestrator.SetDesired("t1", TaskState.SHUTDOWN, "service updated")));
    }

    @Test
    void aDirtyTaskIsReplacedOnlyAfterItHasStopped() {
      ServiceEntity.State updated = service("svc-web", replicated("web", 1, taskSpec("nginx:2")), 12);
      TaskEntity.State old = task("t1", web).slot(1).on("n1").build();

      List<Orchestrator.Action> actions = reconcile(List.of(updated), List.of(N1), List.of(old));

      assertEquals(Set.of("shutdown t1"), summary(actions));
    }

    @Test
    void aTaskOnANodeThatNoLongerSatisfiesItsConstraintsIsReplaced() {
      ServiceSpec.TaskSpec eu = new ServiceSpec.TaskSpec(web.spec().task().container(), null,
          new ServiceSpec.Placement(List.of("node.labels.zone==eu"), 0), null, 0);
      ServiceEntity.State constrained = service("svc-web", replicated("web", 1, eu), 12);
      TaskEntity.State running = task("t1", constrained).slot(1).on("n1").state(TaskState.RUNNING).build();

      assertEquals(Set.of("shutdown t1"), summary(reconcile(List.of(constrained), List.of(N1), List.of(running))));
    }

    @Test
    void aSpecChangeMarksTheServiceUpdatingUntilEveryTaskRunsTheNewSpec() {
      ServiceEntity.State updated = service("svc-web", replicated("web", 1, taskSpec("nginx:2")), 12);
      TaskEntity.State old = task("t1", web).slot(1).on("n1").build();

      assertEquals(List.of("updating"), statuses(reconcile(List.of(updated), List.of(N1), List.of(old))));

      ServiceEntity.State updating = withStatus(updated, "updating");
      TaskEntity.State fresh = task("t2", updated).slot(1).on("n1").state(TaskState.RUNNING).build();
      TaskEntity.State stopped = task("t1", web).slot(1).on("n1").desired(TaskState.SHUTDOWN)
          .state(TaskState.SHUTDOWN).build();
      assertEquals(List.of("completed"),
          statuses(reconcile(List.of(updating), List.of(N1), List.of(stopped, fresh))));
    }

    @Test
    void anUpdateCompletesOnlyAfterTheMonitorWindow() {
      ServiceEntity.State updating =
          withStatus(service("svc-web", replicated("web", 1, taskSpec("nginx:2")), 12), "updating");
      TaskEntity.State justStarted = task("t2", updating).slot(1).on("n1").state(TaskState.RUNNING).build();
      TaskEntity.State fresh = new TaskEntity.State(justStarted.id(), true, justStarted.definition(),
          justStarted.nodeId(), justStarted.desired(), new TaskEntity.Status(TaskState.RUNNING, "started", null,
              NOW.minusSeconds(2), null, null, null, null, null), justStarted.version(), justStarted.createdAt(),
          justStarted.updatedAt(), NOW.minusSeconds(2));

      assertEquals(List.of(), statuses(reconcile(List.of(updating), List.of(N1), List.of(fresh))));
    }

    @Test
    void aChangeThatLeavesEveryTaskCurrentLeavesNoUpdateStatus() {
      TaskEntity.State running = task("t1", web).slot(1).on("n1").state(TaskState.RUNNING).build();
      ServiceEntity.State scaled = service("svc-web", web.spec().withMode(ServiceSpec.Mode.replicated(1)), 11);

      assertEquals(List.of(), statuses(reconcile(List.of(scaled), List.of(N1), List.of(running))));
    }

    @Test
    void aRollbackCompletesOnceTheTasksRunThePreviousSpecAgain() {
      ServiceEntity.State rolledBack =
          withStatus(service("svc-web", replicated("web", 1, web.spec().task()), 13), "rollback_started");
      TaskEntity.State running = task("t1", rolledBack).slot(1).on("n1").state(TaskState.RUNNING).build();

      assertEquals(List.of("rollback_completed"),
          statuses(reconcile(List.of(rolledBack), List.of(N1), List.of(running))));
    }

    @Test
    void aTaskStillStoppingOnAReadyNodeBlocksItsReplacement() {
      ServiceEntity.State updated = service("svc-web", replicated("web", 1, taskSpec("nginx:2")), 12);
      TaskEntity.State stopping = task("t1", web).slot(1).on("n1").desired(TaskState.SHUTDOWN).build();

      assertTrue(reconcile(List.of(updated), List.of(N1), List.of(stopping)).isEmpty());
    }

    @Test
    void aTaskStillStoppingOnADownOrRemovedNodeDoesNotBlock() {
      ServiceEntity.State updated = service("svc-web", replicated("web", 1, taskSpec("nginx:2")), 12);
      TaskEntity.State stopping = task("t1", web).slot(1).on("n1").desired(TaskState.SHUTDOWN).build();
      NodeEntity.State n1Down = node("n1", "host-n1", "worker", "active", "down", Map.of());

      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(updated), List.of(n1Down), List.of(stopping))));
      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(updated), List.of(N2), List.of(stopping))));
    }

    @Test
    void aTaskOnADownNodeIsReplacedElsewhere() {
      ServiceEntity.State one = service("svc-web", web.spec().withMode(ServiceSpec.Mode.replicated(1)), 10);
      NodeEntity.State down = node("n1", "host-n1", "worker", "active", "down", Map.of());
      TaskEntity.State t1 = task("t1", one).slot(1).on("n1").build();

      assertEquals(Set.of("shutdown t1", "create slot 1"), summary(reconcile(List.of(one), List.of(down, N2),
          List.of(t1))));
    }

    @Test
    void aTaskOnADrainedNodeIsShutDown() {
      ServiceEntity.State one = service("svc-web", web.spec().withMode(ServiceSpec.Mode.replicated(1)), 10);
      NodeEntity.State drained = node("n1", "host-n1", "worker", "drain", "ready", Map.of());
      TaskEntity.State t1 = task("t1", one).slot(1).on("n1").build();

      List<Orchestrator.Action> actions = reconcile(List.of(one), List.of(drained, N2), List.of(t1));

      assertTrue(actions.contains(new Orchestrator.SetDesired("t1", TaskState.SHUTDOWN, "node drained")));
    }

    @Test
    void theNewestOfTwoLiveTasksInASlotStays() {
      ServiceEntity.State one = service("svc-web", web.spec().withMode(ServiceSpec.Mode.replicated(1)), 10);
      List<TaskEntity.State> tasks = List.of(
          task("older", one).slot(1).on("n1").at(T0).build(),
          task("newer", one).slot(1).on("n2").at(T0.plusSeconds(1)).build());

      List<Orchestrator.Action> actions = reconcile(List.of(one), List.of(N1, N2), tasks);

      assertEquals(List.of(new Orchestrator.SetDesired("older", TaskState.SHUTDOWN, "more than one task in the slot")),
          actions);
    }
  }

  @Nested
  class StartFirst {
    private final ServiceEntity.State v1 = service("svc-web", replicated("web", 1, taskSpec("nginx:1")), 10);

    private ServiceEntity.State updating() {
      ServiceSpec.UpdatePolicy p = new ServiceSpec.UpdatePolicy(1, 0, "pause", 0, 0, "start-first");
      ServiceSpec v2 = replicated("web", 1, taskSpec("nginx:2"));
      ServiceSpec spec = new ServiceSpec(v2.name(), v2.labels(), v2.task(), v2.mode(), p, null, v2.endpoint());
      return withStatus(service("svc-web", spec, 12), "updating");
    }

    @Test
    void theReplacementIsCreatedOnceAndTheOldTaskServesUntilItRuns() {
      ServiceEntity.State s = updating();
      TaskEntity.State old = task("old", v1).slot(1).on("n1").build();

      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(s), List.of(N1), List.of(old))));

      TaskEntity.State starting = task("new", s).slot(1).on("n1").state(TaskState.STARTING).build();
      assertEquals(Set.of(), summary(reconcile(List.of(s), List.of(N1), List.of(old, starting))),
          "the old task is kept while its replacement starts");

      TaskEntity.State running = task("new", s).slot(1).on("n1").state(TaskState.RUNNING).build();
      assertEquals(Set.of("shutdown old"), summary(reconcile(List.of(s), List.of(N1), List.of(old, running))));
    }
  }

  @Nested
  class RestartPolicy {
    private final Instant failedAt = T0.plusSeconds(10);

    private TaskEntity.State ended(String id, ServiceEntity.State s, TaskState state, Instant at) {
      return task(id, s).slot(1).on("n1").at(at).desired(TaskState.SHUTDOWN).state(state).build();
    }

    /** Rejected on n1 at failedAt, its image not to be had: no container was ever made. */
    private TaskEntity.State rejected(String id, ServiceEntity.State s, int slot) {
      return task(id, s).slot(slot).on("n1").at(failedAt).state(TaskState.REJECTED).err("No such image: nosuch:1")
          .build();
    }

    /** The round shuts the task down and creates its replacement (as summary() says), to start at notBefore. */
    private Orchestrator.CreateTask assertReplaced(List<Orchestrator.Action> actions, String taskId, String create,
        Instant notBefore) {
      assertEquals(Set.of("shutdown " + taskId, create), summary(actions));
      Orchestrator.CreateTask replacement = creates(actions).get(0);
      assertEquals(notBefore, replacement.definition().notBefore());
      return replacement;
    }

    @Test
    void aFailedTaskIsShutDownAndReplacedAfterTheDefaultDelay() {
      ServiceEntity.State web = webWith(1, null);
      TaskEntity.State failed = task("t1", web).slot(1).on("n1").at(failedAt).state(TaskState.FAILED).build();

      List<Orchestrator.Action> actions = reconcile(List.of(web), List.of(N1), List.of(failed));

      assertEquals(Set.of("shutdown t1", "create slot 1"), summary(actions));
      assertTrue(actions.contains(new Orchestrator.SetDesired("t1", TaskState.SHUTDOWN, "task failed")));
      Orchestrator.CreateTask replacement = creates(actions).get(0);
      assertEquals(failedAt.plus(Duration.ofSeconds(5)), replacement.definition().notBefore());
      assertEquals(Duration.ofSeconds(5).toNanos(), Orchestrator.DEFAULT_RESTART_DELAY);
      assertEquals("restart policy: task t1 failed", replacement.reason());
    }

    @Test
    void theNextRoundStillCreatesTheReplacementOnce() {
      ServiceEntity.State web = webWith(1, null);
      TaskEntity.State shutDown = ended("t1", web, TaskState.FAILED, failedAt);

      List<Orchestrator.Action> actions = reconcile(List.of(web), List.of(N1), List.of(shutDown));

      assertEquals(Set.of("create slot 1"), summary(actions));
      assertEquals(failedAt.plusSeconds(5), creates(actions).get(0).definition().notBefore());
    }

    @Test
    void theRestartDelayOfThePolicyIsUsed() {
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("any", Duration.ofSeconds(2).toNanos(),
          null, null));

      List<Orchestrator.Action> actions =
          reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.FAILED, failedAt)));

      assertEquals(failedAt.plusSeconds(2), creates(actions).get(0).definition().notBefore());
    }

    @Test
    void conditionAnyRestartsACompletedTask() {
      ServiceEntity.State web = webWith(1, null);

      assertEquals(Set.of("create slot 1"),
          summary(reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.COMPLETE, failedAt)))));
    }

    @Test
    void conditionNoneNeverRestarts() {
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("none", null, null, null));
      TaskEntity.State failed = task("t1", web).slot(1).on("n1").at(failedAt).state(TaskState.FAILED).build();

      assertEquals(Set.of("shutdown t1"), summary(reconcile(List.of(web), List.of(N1), List.of(failed))));
      assertTrue(reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.FAILED, failedAt)))
          .isEmpty());
      assertTrue(reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.COMPLETE, failedAt)))
          .isEmpty());
    }

    @Test
    void conditionOnFailureRestartsAFailedTaskButNotACompletedOne() {
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("on-failure", null, null, null));

      assertTrue(reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.COMPLETE, failedAt)))
          .isEmpty());
      assertEquals(Set.of("create slot 1"),
          summary(reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.FAILED, failedAt)))));
      assertEquals(Set.of("create slot 1"),
          summary(reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.REJECTED, failedAt)))));
    }

    @Test
    void maxAttemptsStopsRestartingOnceTheAttemptsAreUsed() {
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("any", null, 2L, null));
      List<TaskEntity.State> tasks = List.of( // the first task and its two restarts all failed
          ended("t1", web, TaskState.FAILED, failedAt),
          ended("t2", web, TaskState.FAILED, failedAt.plusSeconds(10)),
          ended("t3", web, TaskState.FAILED, failedAt.plusSeconds(20)));

      assertTrue(reconcile(List.of(web), List.of(N1), tasks).isEmpty());
    }

    @Test
    void maxAttemptsAllowsThatManyRestarts() {
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("any", null, 1L, null));
      List<TaskEntity.State> firstFailure = List.of(ended("t1", web, TaskState.FAILED, failedAt));

      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(web), List.of(N1), firstFailure)));
    }

    @Test
    void aServiceUpdateStartsASlotThatStoppedRestarting() {
      ServiceSpec.RestartPolicy twice = new ServiceSpec.RestartPolicy("any", null, 2L, null);
      ServiceEntity.State old = webWith(1, twice);
      List<TaskEntity.State> exhausted = List.of(
          ended("t1", old, TaskState.FAILED, failedAt),
          ended("t2", old, TaskState.FAILED, failedAt.plusSeconds(10)),
          ended("t3", old, TaskState.FAILED, failedAt.plusSeconds(20)));
      ServiceEntity.State fixed = service("svc-web", replicated("web", 1, taskSpec("nginx:2", twice, null)), 12);

      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(fixed), List.of(N1), exhausted)));

      ServiceSpec.RestartPolicy none = new ServiceSpec.RestartPolicy("none", null, null, null);
      ServiceEntity.State once = webWith(1, none);
      ServiceEntity.State updated = service("svc-web", replicated("web", 1, taskSpec("nginx:2", none, null)), 12);

      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(updated), List.of(N1),
          List.of(ended("t1", once, TaskState.COMPLETE, failedAt)))));
    }

    /**
     * The node could not get the task's image: it rejected the task before any container existed. The task is
     * replaced in its slot like any that failed, to start no earlier than the restart delay after the rejection.
     */
    @Test
    void aTaskRejectedForAMissingImageIsReplacedNoEarlierThanTheDelay() {
      ServiceEntity.State web = webWith(1, null);

      List<Orchestrator.Action> actions = reconcile(List.of(web), List.of(N1), List.of(rejected("t1", web, 1)));

      Orchestrator.CreateTask replacement = assertReplaced(actions, "t1", "create slot 1", failedAt.plusSeconds(5));
      assertEquals("restart policy: task t1 rejected", replacement.reason());
    }

    /** Its container was created but could not start, its host port taken: the policy's delay applies alike. */
    @Test
    void aTaskFailedAtStartIsReplacedNoEarlierThanThePolicysDelay() {
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("any", Duration.ofSeconds(10).toNanos(),
          null, null));
      TaskEntity.State failed = task("t1", web).slot(1).on("n1").at(failedAt).state(TaskState.FAILED)
          .err("starting container failed: Bind for 0.0.0.0:8080 failed: port is already allocated").build();

      List<Orchestrator.Action> actions = reconcile(List.of(web), List.of(N1), List.of(failed));

      assertReplaced(actions, "t1", "create slot 1", failedAt.plusSeconds(10));
    }

    /**
     * A slot whose task never starts costs one task per delay: while the replacement waits, the slot has its
     * task and nothing more is made, and the scheduler places it only once the delay is over.
     */
    @Test
    void aSlotThatNeverStartsCostsOneTaskPerDelay() {
      ServiceEntity.State web = webWith(1, null);
      Instant due = failedAt.plusSeconds(5);
      List<TaskEntity.State> tasks = List.of(
          ended("t1", web, TaskState.REJECTED, failedAt),
          task("t2", web).slot(1).at(failedAt).state(TaskState.PENDING).notBefore(due).build());

      for (Instant now = failedAt.plusSeconds(1); now.isBefore(due); now = now.plusSeconds(1)) {
        assertEquals(List.of(), Orchestrator.reconcile(List.of(web), List.of(N1), tasks, HISTORY, now));
        assertEquals(List.of(), Scheduler.schedule(tasks, List.of(N1), now), "not placed before " + due);
      }
      assertEquals(List.of(new Scheduler.Decision("t2", "n1", null)), Scheduler.schedule(tasks, List.of(N1), due));
    }

    /**
     * A global task is replaced on its own node; the replacement is created there at once, so it carries its
     * delay to the dispatcher, which hands it to the node no earlier (ManagerDispatcherTest).
     */
    @Test
    void aGlobalTaskThatNeverStartedIsReplacedOnItsNodeNoEarlierThanTheDelay() {
      ServiceEntity.State agent = service("svc-agent", Fixtures.global("agent", taskSpec("nosuch:1")), 20);

      List<Orchestrator.Action> actions = reconcile(List.of(agent), List.of(N1), List.of(rejected("g1", agent, 0)));

      assertReplaced(actions, "g1", "create node n1", failedAt.plusSeconds(5));
    }

    /** Condition none: a task that never started is shut down and left there, not replaced. */
    @Test
    void conditionNoneLeavesATaskThatNeverStarted() {
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("none", null, null, null));

      assertEquals(Set.of("shutdown t1"),
          summary(reconcile(List.of(web), List.of(N1), List.of(rejected("t1", web, 1)))));
      assertTrue(reconcile(List.of(web), List.of(N1), List.of(ended("t1", web, TaskState.REJECTED, failedAt)))
          .isEmpty());
    }

    /**
     * As swarmkit counts a restart whatever ended the task before it, failures before any container ran count
     * towards MaxAttempts within the window: here the two attempts are used by the three in the last minute.
     */
    @Test
    void failuresBeforeAnyContainerRanCountAsRestarts() {
      long window = Duration.ofSeconds(60).toNanos();
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("any", null, 2L, window));
      List<TaskEntity.State> tasks = List.of(
          ended("t1", web, TaskState.REJECTED, NOW.minusSeconds(500)),
          ended("t2", web, TaskState.REJECTED, NOW.minusSeconds(20)),
          ended("t3", web, TaskState.FAILED, NOW.minusSeconds(10)),
          ended("t4", web, TaskState.REJECTED, NOW.minusSeconds(1)));

      assertTrue(reconcile(List.of(web), List.of(N1), tasks).isEmpty());
      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(web), List.of(N1), tasks.subList(0, 3))),
          "one attempt was left before t4");
    }

    @Test
    void failuresOutsideTheWindowDoNotCount() {
      long window = Duration.ofSeconds(60).toNanos();
      ServiceEntity.State web = webWith(1, new ServiceSpec.RestartPolicy("any", null, 2L, window));
      List<TaskEntity.State> tasks = List.of(
          ended("t1", web, TaskState.FAILED, NOW.minusSeconds(500)),
          ended("t2", web, TaskState.FAILED, NOW.minusSeconds(400)),
          ended("t3", web, TaskState.FAILED, NOW.minusSeconds(10)));

      assertEquals(Set.of("create slot 1"), summary(reconcile(List.of(web), List.of(N1), tasks)));
    }
  }

  @Nested
  class History {
    private final ServiceEntity.State web = webWith(1, null);

    private List<TaskEntity.State> finished(int n) {
      List<TaskEntity.State> tasks = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        tasks.add(task("old" + i, web).slot(1).on("n1").at(T0.plusSeconds(i)).desired(TaskState.SHUTDOWN)
            .state(TaskState.FAILED).build());
      }
      return tasks;
    }

    @Test
    void theOldestFinishedTasksBeyondTheLimitAreDeleted() {
      List<TaskEntity.State> tasks = new ArrayList<>(finished(6));
      tasks.add(task("live", web).slot(1).on("n1").at(T0.plusSeconds(100)).build());

      List<Orchestrator.Action> actions = reconcile(List.of(web), List.of(N1), tasks);

      assertEquals(Set.of("delete old0", "delete old1"), summary(actions));
      assertTrue(actions.stream().allMatch(a -> a.reason().equals("task history limit")));
    }

    @Test
    void aRestartAtTheLimitMakesRoomInTheSameRound() {
      List<TaskEntity.State> tasks = new ArrayList<>(finished(5));

      assertEquals(Set.of("create slot 1", "delete old0"), summary(reconcile(List.of(web), List.of(N1), tasks)),
          "the slot never shows more than the limit");
    }

    @Test
    void historyWithinTheLimitIsKept() {
      List<TaskEntity.State> tasks = new ArrayList<>(finished(4));
      tasks.add(task("live", web).slot(1).on("n1").at(T0.plusSeconds(100)).build());

      assertTrue(reconcile(List.of(web), List.of(N1), tasks).isEmpty());
    }

    @Test
    void tasksShutDownWhilePendingAreTrimmedToo() {
      List<TaskEntity.State> tasks = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        tasks.add(task("pend" + i, web).slot(1).at(T0.plusSeconds(i)).desired(TaskState.SHUTDOWN)
            .state(TaskState.PENDING).build());
      }
      tasks.add(task("live", web).slot(1).on("n1").at(T0.plusSeconds(100)).build());

      assertEquals(Set.of("delete pend0", "delete pend1"), summary(reconcile(List.of(web), List.of(N1), tasks)));
    }

    @Test
    void aLiveTaskIsNeverTrimmed() {
      List<TaskEntity.State> tasks = new ArrayList<>(finished(5));
      // the oldest task of the slot is the live one
      tasks.add(task("live", web).slot(1).on("n1").at(T0.minusSeconds(100)).build());

      assertEquals(Set.of("delete old0"), summary(reconcile(List.of(web), List.of(N1), tasks)));
    }
  }

  @Nested
  class RemovedService {
    private final ServiceEntity.State gone = service("svc-gone", replicated("gone", 2), 3);

    @Test
    void itsTasksAreToldToRemoveThenDeleted() {
      NodeEntity.State down = node("n2", "host-n2", "worker", "active", "down", Map.of());
      List<TaskEntity.State> tasks = List.of(
          task("running", gone).slot(1).on("n1").build(),
          task("removing", gone).slot(2).on("n1").desired(TaskState.REMOVE).build(),
          task("stopped", gone).slot(3).on("n1").desired(TaskState.REMOVE).state(TaskState.SHUTDOWN).build(),
          task("pending", gone).slot(4).state(TaskState.PENDING).build(),
          task("onDownNode", gone).slot(5).on("n2").build());

      List<Orchestrator.Action> actions = reconcile(List.of(), List.of(N1, down), tasks);

      assertEquals(Set.of("remove running", "delete stopped", "delete pending", "delete onDownNode"),
          summary(actions));
      assertTrue(actions.stream().allMatch(a -> a.reason().equals("service removed")));
    }

    @Test
    void otherServicesAreUntouched() {
      ServiceEntity.State web = service("svc-web", replicated("web", 1), 4);
      List<TaskEntity.State> tasks = List.of(
          task("gone1", gone).slot(1).on("n1").state(TaskState.SHUTDOWN).build(),
          task("web1", web).slot(1).on("n1").build());

      assertEquals(Set.of("delete gone1"), summary(reconcile(List.of(web), List.of(N1), tasks)));
    }
  }

  @Nested
  class Global {
    private final NodeEntity.State manager = node("m1", "host-m1", "manager", "active", "ready", Map.of());
    private final NodeEntity.State drained = node("m2", "host-m2", "manager", "drain", "ready", Map.of());
    private final NodeEntity.State down = node("m3", "host-m3", "manager", "active", "down", Map.of());
    private final NodeEntity.State paused = node("m4", "host-m4", "manager", "pause", "ready", Map.of());
    private final NodeEntity.State worker = node("w1", "host-w1", "worker", "active", "ready", Map.of());
    private final List<NodeEntity.State> nodes = List.of(manager, drained, down, paused, worker);

    private ServiceEntity.State agent(List<String> constraints) {
      ServiceSpec.Placement placement = constraints == null ? null : new ServiceSpec.Placement(constraints, 0);
      return service("svc-agent", Fixtures.global("agent", taskSpec("agent:1", null, placement)), 20);
    }

    private TaskEntity.State on(ServiceEntity.State s, String id, String node) {
      return task(id, s).slot(0).on(node).build();
    }

    @Test
    void oneTaskPerReadyActiveNode() {
      ServiceEntity.State s = agent(null);

      List<Orchestrator.Action> actions = reconcile(List.of(s), nodes, List.of());

      assertEquals(Set.of("create node m1", "create node w1"), summary(actions));
      for (Orchestrator.CreateTask c : creates(actions)) {
        assertEquals(0, c.definition().slot());
        assertEquals(s.spec().task(), c.definition().spec());
      }
    }

    @Test
    void noTaskOnANodeFailingAConstraint() {
      ServiceEntity.State s = agent(List.of("node.role==manager"));

      assertEquals(Set.of("create node m1"), summary(reconcile(List.of(s), nodes, List.of())));
    }

    @Test
    void nodesThatHaveTheirTaskNeedNothing() {
      ServiceEntity.State s = agent(null);

      assertTrue(reconcile(List.of(s), nodes, List.of(on(s, "t1", "m1"), on(s, "t2", "w1"))).isEmpty());
    }

    @Test
    void aPausedNodeKeepsItsTaskButADrainedOneLosesIt() {
      ServiceEntity.State s = agent(null);
      List<TaskEntity.State> tasks = List.of(on(s, "t1", "m1"), on(s, "t2", "w1"), on(s, "onPaused", "m4"),
          on(s, "onDrained", "m2"));

      List<Orchestrator.Action> actions = reconcile(List.of(s), nodes, tasks);

      assertEquals(List.of(new Orchestrator.SetDesired("onDrained", TaskState.SHUTDOWN, "node not eligible")),
          actions);
    }

    @Test
    void aTaskOnANodeThatNoLongerMatchesIsShutDown() {
      ServiceEntity.State s = agent(List.of("node.role==manager"));

      List<Orchestrator.Action> actions = reconcile(List.of(s), nodes, List.of(on(s, "t1", "m1"),
          on(s, "t2", "w1")));

      assertEquals(Set.of("shutdown t2"), summary(actions));
    }

    @Test
    void theTaskOfARemovedNodeIsDeleted() {
      ServiceEntity.State s = agent(null);

      List<Orchestrator.Action> actions = reconcile(List.of(s), List.of(manager),
          List.of(on(s, "t1", "m1"), on(s, "orphan", "gone")));

      assertEquals(Set.of("delete orphan"), summary(actions));
    }
  }
}
