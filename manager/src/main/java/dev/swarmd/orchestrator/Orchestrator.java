package dev.swarmd.orchestrator;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.scheduler.Constraint;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.update.Updater;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Keeps each service's tasks equal to its spec: one live task per replica slot (or per eligible
 * node for global services), replaced by the restart policy when it ends, and history trimmed to
 * the retention limit. Pure: it reads state and returns what to change.
 */
public final class Orchestrator {
  static final long DEFAULT_RESTART_DELAY = Duration.ofSeconds(5).toNanos();

  public sealed interface Action {
    String reason();
  }

  public record CreateTask(String taskId, TaskEntity.Definition definition, String reason) implements Action {}

  public record SetDesired(String taskId, TaskState desired, String reason) implements Action {}

  public record DeleteTask(String taskId, String reason) implements Action {}

  /**
   * serviceVersion: the version of the service the status was decided on; a service changed since
   * (a new update) keeps its own status.
   */
  public record SetUpdateStatus(String serviceId, long serviceVersion, ServiceEntity.UpdateStatus status,
      String reason) implements Action {}

  /** FailureAction rollback: back to the previous spec, because the new one's task failed. */
  public record AutoRollback(String serviceId, String taskId, String reason) implements Action {}

  private final Collection<ServiceEntity.State> services;
  private final Map<String, NodeEntity.State> nodes;
  private final Map<String, List<TaskEntity.State>> tasksByService;
  private final long historyLimit;
  private final Instant now;
  private final List<Action> actions = new ArrayList<>();

  private Orchestrator(Collection<ServiceEntity.State> services, Collection<NodeEntity.State> nodes,
      Collection<TaskEntity.State> tasks, long historyLimit, Instant now) {
    this.services = services;
    this.nodes = nodes.stream().collect(Collectors.toMap(NodeEntity.State::id, Function.identity()));
    this.tasksByService = tasks.stream().collect(Collectors.groupingBy(t -> t.definition().serviceId()));
    this.historyLimit = historyLimit;
    this.now = now;
  }

  public static List<Action> reconcile(Collection<ServiceEntity.State> services, Collection<NodeEntity.State> nodes,
      Collection<TaskEntity.State> tasks, long historyLimit, Instant now) {
    Orchestrator o = new Orchestrator(services, nodes, tasks, historyLimit, now);
    o.run();
    return o.actions;
  }

  private void run() {
    for (ServiceEntity.State s : services) {
      List<TaskEntity.State> tasks = tasksByService.getOrDefault(s.id(), List.of());
      if (s.spec().mode().kind() == ServiceSpec.ModeKind.GLOBAL) {
        reconcileGlobal(s, tasks);
      } else {
        reconcileReplicated(s, tasks);
      }
      trackRollout(s, tasks);
    }
    for (Map.Entry<String, List<TaskEntity.State>> e : tasksByService.entrySet()) {
      boolean gone = services.stream().noneMatch(s -> s.id().equals(e.getKey()));
      if (gone) {
        e.getValue().forEach(t -> retire(t, "service removed"));
      }
    }
  }

  private void reconcileReplicated(ServiceEntity.State s, List<TaskEntity.State> tasks) {
    Map<Integer, List<TaskEntity.State>> bySlot =
        tasks.stream().collect(Collectors.groupingBy(t -> t.definition().slot()));
    long replicas = s.spec().mode().replicas();
    List<Integer> slots = java.util.stream.IntStream.rangeClosed(1, (int) replicas).boxed().toList();
    Updater.Plan<Integer> plan = Updater.plan(s, slots, bySlot, now);
    updateFailed(s, plan.failure());
    for (int slot = 1; slot <= replicas; slot++) {
      reconcileSlot(s, slot, null, bySlot.getOrDefault(slot, List.of()), plan.slots().contains(slot),
          plan.startFirst());
    }
    bySlot.forEach((slot, slotTasks) -> {
      if (slot > replicas) {
        slotTasks.forEach(t -> retire(t, "service scaled down"));
      } else {
        trimHistory(slotTasks, creating(s.id(), slot, null));
      }
    });
  }

  private void updateFailed(ServiceEntity.State s, Updater.Failure f) {
    if (f == null) {
      return;
    }
    ServiceEntity.UpdateStatus u = s.updateStatus();
    if (f.action().equals("rollback")) {
      actions.add(new AutoRollback(s.id(), f.taskId(), "task " + f.taskId() + " of the new spec failed"));
    } else {
      actions.add(new SetUpdateStatus(s.id(), s.version(), f.status(u == null ? now : u.startedAt(), now),
          "task " + f.taskId() + " of the new spec failed"));
    }
  }

  /** One task per eligible node; an update replaces them node by node as the updater says, as for slots. */
  private void reconcileGlobal(ServiceEntity.State s, List<TaskEntity.State> tasks) {
    Map<String, List<TaskEntity.State>> byNode = tasks.stream()
        .filter(t -> t.nodeId() != null)
        .collect(Collectors.groupingBy(TaskEntity.State::nodeId));
    List<Constraint> constraints = Constraint.parseAll(placementConstraints(s.spec().task()));
    List<String> wanted = new ArrayList<>();
    for (NodeEntity.State n : nodes.values()) {
      boolean eligible = n.ready() && !"drain".equals(n.spec().availability())
          && constraints.stream().allMatch(c -> c.matches(n));
      boolean hasLive = byNode.getOrDefault(n.id(), List.of()).stream().anyMatch(t -> !t.desired().terminal());
      // A paused node keeps what it runs but takes no new global task.
      boolean mayCreate = "active".equals(n.spec().availability()) || hasLive;
      if (eligible && mayCreate) {
        wanted.add(n.id());
      }
    }
    wanted.sort(Comparator.naturalOrder());
    Updater.Plan<String> plan = Updater.plan(s, wanted, byNode, now);
    updateFailed(s, plan.failure());
    for (NodeEntity.State n : nodes.values()) {
      List<TaskEntity.State> nodeTasks = byNode.getOrDefault(n.id(), List.of());
      if (wanted.contains(n.id())) {
        reconcileSlot(s, 0, n.id(), nodeTasks, plan.slots().contains(n.id()), plan.startFirst());
      } else {
        nodeTasks.stream().filter(t -> !t.desired().terminal())
            .forEach(t -> actions.add(new SetDesired(t.id(), TaskState.SHUTDOWN, "node not eligible")));
      }
    }
    byNode.forEach((node, nodeTasks) -> {
      if (!nodes.containsKey(node)) {
        nodeTasks.forEach(t -> retire(t, "node removed"));
      }
      trimHistory(nodeTasks, creating(s.id(), 0, node));
    });
  }

  /**
   * One slot (replicated) or one node (global, nodeId set): keep exactly one live task. A task of an
   * older spec stays until the updater picks its slot (replace); then it is stopped before its
   * replacement starts, or, start-first, once its replacement runs (while the replacement starts,
   * the slot is no longer the updater's to pick, so its live current task marks it).
   */
  private void reconcileSlot(ServiceEntity.State s, int slot, String nodeId, List<TaskEntity.State> slotTasks,
      boolean replace, boolean startFirst) {
    List<TaskEntity.State> live = new ArrayList<>();
    TaskEntity.State outgoing = null;
    boolean stopping = stillStopping(slotTasks);
    boolean replacementLive = slotTasks.stream()
        .anyMatch(t -> !t.desired().terminal() && current(s, t) && replaceReason(s, t) == null);
    for (TaskEntity.State t : slotTasks) {
      if (t.desired().terminal()) {
        continue;
      }
      String why = replaceReason(s, t);
      if (why == null && !current(s, t) && (replace || replacementLive)) {
        if (startFirst && outgoing == null) {
          outgoing = t;
          continue;
        }
        why = "service updated";
      }
      if (why == null) {
        live.add(t);
        continue;
      }
      actions.add(new SetDesired(t.id(), TaskState.SHUTDOWN, why));
      stopping |= stopsOnReadyNode(t);
    }
    live.sort(Comparator.comparing(TaskEntity.State::createdAt).reversed());
    for (TaskEntity.State extra : live.subList(Math.min(1, live.size()), live.size())) {
      actions.add(new SetDesired(extra.id(), TaskState.SHUTDOWN, "more than one task in the slot"));
    }
    if (outgoing != null) {
      // Start-first: the old task serves until its replacement runs.
      boolean replacementRuns = live.stream().anyMatch(t -> current(s, t) && t.state() == TaskState.RUNNING);
      if (replacementRuns) {
        actions.add(new SetDesired(outgoing.id(), TaskState.SHUTDOWN, "service updated (start-first)"));
      } else if (live.isEmpty()) {
        actions.add(new CreateTask(Ids.newId(), new TaskEntity.Definition(s.id(), s.spec().name(), slot, nodeId,
            s.spec().task(), s.version(), TaskState.RUNNING, null, s.endpointPorts()), "service updated (start-first)"));
      }
      return;
    }
    // Stop-first: a replacement waits until the task it replaces has stopped.
    if (!live.isEmpty() || stopping) {
      return;
    }
    TaskEntity.State last = slotTasks.stream().max(Comparator.comparing(TaskEntity.State::createdAt)).orElse(null);
    Instant notBefore = null;
    String reason = "reconcile: slot has no task";
    // The restart policy governs a task that ended on its own under the current spec; a new spec starts afresh.
    if (last != null && endedOnItsOwn(last) && current(s, last)) {
      ServiceSpec.RestartPolicy p = s.spec().task().restart();
      String condition = p == null || p.condition() == null ? "any" : p.condition();
      if (condition.equals("none") || (condition.equals("on-failure") && last.state() == TaskState.COMPLETE)) {
        return;
      }
      if (p != null && p.maxAttempts() != null && p.maxAttempts() > 0
          && restarts(s, slotTasks, p.window()) >= p.maxAttempts()) {
        return;
      }
      long delay = p == null || p.delay() == null ? DEFAULT_RESTART_DELAY : p.delay();
      notBefore = last.status().timestamp().plusNanos(delay);
      reason = "restart policy: task " + last.id() + " " + last.state().apiName();
    }
    TaskEntity.Definition d = new TaskEntity.Definition(s.id(), s.spec().name(), slot, nodeId, s.spec().task(),
        s.version(), TaskState.RUNNING, notBefore, s.endpointPorts());
    actions.add(new CreateTask(Ids.newId(), d, reason));
  }

  /**
   * Docker's UpdateStatus for a spec change: "updating" while tasks of an older spec are live,
   * "completed" (or "rollback_completed") once every wanted task runs the current spec. A change
   * that leaves every task current leaves it absent, as in swarmkit.
   */
  private void trackRollout(ServiceEntity.State s, List<TaskEntity.State> tasks) {
    ServiceEntity.UpdateStatus u = s.updateStatus();
    boolean outdated = tasks.stream().anyMatch(t -> !t.desired().terminal() && !current(s, t));
    if (u == null && outdated) {
      actions.add(new SetUpdateStatus(s.id(), s.version(),
          new ServiceEntity.UpdateStatus("updating", now, null, "update in progress"), "spec changed"));
      return;
    }
    if (u == null || outdated || !rolledOut(s, tasks)) {
      return;
    }
    if (u.state().equals("updating")) {
      actions.add(new SetUpdateStatus(s.id(), s.version(),
          new ServiceEntity.UpdateStatus("completed", u.startedAt(), now, "update completed"), "tasks current"));
    } else if (u.state().equals("rollback_started")) {
      actions.add(new SetUpdateStatus(s.id(), s.version(),
          new ServiceEntity.UpdateStatus("rollback_completed", u.startedAt(), now, "rollback completed"),
          "tasks current"));
    }
  }

  /**
   * Every wanted task of the current spec is running, and has been for the monitor window (as
   * swarmkit: Monitor, or Delay + 1 s when the delay is longer). The CLI's progress relies on that
   * window: it takes "completed" before it has seen the tasks converge as a reason to stop.
   */
  private boolean rolledOut(ServiceEntity.State s, List<TaskEntity.State> tasks) {
    boolean rollback = s.updateStatus() != null && s.updateStatus().state().startsWith("rollback");
    ServiceSpec.UpdatePolicy policy = rollback ? s.spec().rollback() : s.spec().update();
    long monitor = policy == null || policy.monitor() == 0 ? Updater.DEFAULT_MONITOR : policy.monitor();
    if (policy != null && policy.delay() >= monitor) {
      monitor = policy.delay() + Duration.ofSeconds(1).toNanos();
    }
    Instant settled = now.minusNanos(monitor);
    List<TaskEntity.State> wanted = tasks.stream().filter(t -> !t.desired().terminal()).toList();
    boolean allRunning = wanted.stream().allMatch(t -> t.state() == TaskState.RUNNING && current(s, t)
        && !t.status().timestamp().isAfter(settled));
    if (s.spec().mode().kind() == ServiceSpec.ModeKind.GLOBAL) {
      return allRunning;
    }
    long slots = wanted.stream().filter(t -> t.definition().slot() <= s.spec().mode().replicas())
        .map(t -> t.definition().slot()).distinct().count();
    return allRunning && slots == s.spec().mode().replicas();
  }

  /** Why a live task must be shut down and replaced, or null when it may stay. */
  private String replaceReason(ServiceEntity.State s, TaskEntity.State t) {
    if (t.state().terminal()) {
      return "task " + t.state().apiName();
    }
    NodeEntity.State node = t.nodeId() == null ? null : nodes.get(t.nodeId());
    if (t.nodeId() != null && node == null) {
      return "node removed";
    }
    if (node != null && "drain".equals(node.spec().availability())) {
      return "node drained";
    }
    if (node != null && !node.ready()) {
      return "node " + node.statusState();
    }
    // As swarmkit's constraint enforcer: a node whose labels changed may no longer fit the task.
    if (node != null && !Constraint.parseAll(placementConstraints(t.definition().spec())).stream()
        .allMatch(c -> c.matches(node))) {
      return "node no longer satisfies the constraints";
    }
    return null;
  }

  /** A task already told to stop that has not yet stopped on its (ready) node. */
  private boolean stillStopping(List<TaskEntity.State> slotTasks) {
    return slotTasks.stream().anyMatch(t -> t.desired().terminal() && stopsOnReadyNode(t));
  }

  /** Whether the task, once told to stop, has a running container to stop: its node is up to do it. */
  private boolean stopsOnReadyNode(TaskEntity.State t) {
    NodeEntity.State node = t.nodeId() == null ? null : nodes.get(t.nodeId());
    return !t.state().terminal() && t.state().atLeast(TaskState.ASSIGNED) && node != null && node.ready();
  }

  private static boolean current(ServiceEntity.State s, TaskEntity.State t) {
    return Updater.current(s, t);
  }

  private static boolean endedOnItsOwn(TaskEntity.State t) {
    return t.state() == TaskState.FAILED || t.state() == TaskState.REJECTED || t.state() == TaskState.COMPLETE;
  }

  /** Restarts so far under the current spec (within the window): every ended task but the first was one. */
  private long restarts(ServiceEntity.State s, List<TaskEntity.State> slotTasks, Long window) {
    Instant since = window == null || window == 0 ? Instant.MIN : now.minusNanos(window);
    long ended = slotTasks.stream().filter(Orchestrator::endedOnItsOwn).filter(t -> current(s, t))
        .filter(t -> t.status().timestamp().isAfter(since)).count();
    return Math.max(0, ended - 1);
  }

  /** Keeps at most historyLimit tasks per slot, deleting the oldest finished ones. */
  /** Tasks this round creates in the slot (or node): the history makes room for them at once. */
  private long creating(String serviceId, int slot, String nodeId) {
    return actions.stream().filter(a -> a instanceof CreateTask c && c.definition().serviceId().equals(serviceId)
        && c.definition().slot() == slot && Objects.equals(c.definition().nodeId(), nodeId)).count();
  }

  private void trimHistory(List<TaskEntity.State> slotTasks, long creating) {
    if (slotTasks.size() + creating <= historyLimit) {
      return;
    }
    // Finished: not wanted and not running anywhere (ended, or never placed on a node).
    List<TaskEntity.State> finished = slotTasks.stream()
        .filter(t -> t.desired().terminal() && (t.state().terminal() || t.nodeId() == null))
        .sorted(Comparator.comparing(TaskEntity.State::createdAt))
        .toList();
    long excess = slotTasks.size() + creating - historyLimit;
    finished.stream().limit(excess).forEach(t -> actions.add(new DeleteTask(t.id(), "task history limit")));
  }

  /** A task that no longer belongs (removed service or node, scaled-down slot): stopped, then deleted. */
  private void retire(TaskEntity.State t, String reason) {
    NodeEntity.State node = t.nodeId() == null ? null : nodes.get(t.nodeId());
    boolean nobodyRunsIt = node == null || !node.ready() || t.state().terminal() || t.state() == TaskState.PENDING;
    if (nobodyRunsIt) {
      actions.add(new DeleteTask(t.id(), reason));
    } else if (t.desired() != TaskState.REMOVE) {
      actions.add(new SetDesired(t.id(), TaskState.REMOVE, reason));
    }
  }

  private static List<String> placementConstraints(ServiceSpec.TaskSpec spec) {
    return spec.placement() == null ? null : spec.placement().constraints();
  }
}
