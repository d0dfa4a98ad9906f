package dev.swarmd.update;

import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The rolling update of a service, as swarmkit's updater: which slots (replicated) or nodes
 * (global) still running an older spec are replaced now (Parallelism at a time, Delay after each
 * batch is running), in which order (stop-first or start-first), and what a new task that fails
 * before it has run for the Monitor window does to the update (FailureAction over
 * MaxFailureRatio). Pure and level-triggered: its progress is the tasks themselves, so an update
 * survives a manager restart without replacing a slot twice or skipping one.
 */
public final class Updater {
  public static final long DEFAULT_MONITOR = Duration.ofSeconds(5).toNanos();
  static final ServiceSpec.UpdatePolicy DEFAULT =
      new ServiceSpec.UpdatePolicy(1, 0, "pause", DEFAULT_MONITOR, 0, "stop-first");

  /** The slots to replace now, and how; failure is set when the update must pause or roll back. */
  public record Plan<K>(Set<K> slots, boolean startFirst, Failure failure) {}

  /** action: pause, or rollback; taskId: the new task that failed. */
  public record Failure(String action, String taskId, boolean duringRollback) {
    public ServiceEntity.UpdateStatus status(Instant startedAt, Instant now) {
      if (duringRollback) {
        return new ServiceEntity.UpdateStatus("rollback_paused", startedAt, null,
            "rollback paused due to failure or early termination of task " + taskId);
      }
      return new ServiceEntity.UpdateStatus("paused", startedAt, null,
          "update paused due to failure or early termination of task " + taskId);
    }
  }

  private Updater() {}

  /**
   * keys: the slots (replicated: 1..replicas) or nodes (global: the eligible ones) the service
   * wants a task in, in the order they are updated; bySlot: the tasks of each.
   */
  public static <K> Plan<K> plan(ServiceEntity.State s, List<K> keys, Map<K, List<TaskEntity.State>> bySlot,
      Instant now) {
    ServiceEntity.UpdateStatus u = s.updateStatus();
    boolean rollback = u != null && u.state().startsWith("rollback");
    ServiceSpec.UpdatePolicy p = policy(s, rollback);
    // The order holds for slots already picked (a start-first replacement still starting) too.
    boolean startFirst = p.order().equals("start-first");
    if (u != null && !u.state().equals("updating") && !u.state().equals("rollback_started")) {
      return new Plan<>(Set.of(), startFirst, null);
    }
    Instant started = u == null || u.startedAt() == null ? now : u.startedAt();
    long monitor = p.monitor() == 0 ? DEFAULT_MONITOR : p.monitor();

    List<K> dirty = new ArrayList<>();
    int inFlight = 0;
    int failures = 0;
    TaskEntity.State failed = null;
    for (K slot : keys) {
      TaskEntity.State liveCurrent = null;
      boolean oldLive = false;
      for (TaskEntity.State t : bySlot.getOrDefault(slot, List.of())) {
        boolean current = current(s, t);
        if (current && !t.createdAt().isBefore(started) && failedEarly(t, monitor)) {
          failures++;
          failed = failed == null || t.createdAt().isAfter(failed.createdAt()) ? t : failed;
        }
        if (current && !t.desired().terminal()) {
          liveCurrent = t;
        } else if (!current && !t.desired().terminal()) {
          oldLive = true;
        }
      }
      if (liveCurrent != null) {
        if (liveCurrent.state().compareTo(TaskState.RUNNING) < 0 || oldLive) {
          inFlight++;
        } else if (liveCurrent.state() == TaskState.RUNNING && !liveCurrent.createdAt().isBefore(started)) {
          // As swarmkit's update workers: each waits Delay after its task runs before it takes the next slot.
          Instant at = liveCurrent.runningAt() != null ? liveCurrent.runningAt() : liveCurrent.status().timestamp();
          if (now.isBefore(at.plusNanos(p.delay()))) {
            inFlight++;
          }
        }
      } else if (oldLive) {
        dirty.add(slot);
      } else {
        // Its old task stopping, or stopped and its replacement not created yet: still this batch's.
        inFlight++;
      }
    }
    if (failures > 0 && !p.failureAction().equals("continue")
        && (double) failures / Math.max(1, keys.size()) > p.maxFailureRatio()) {
      String action = p.failureAction().equals("rollback") && !rollback ? "rollback" : "pause";
      return new Plan<>(Set.of(), false, new Failure(action, failed.id(), rollback));
    }
    if (dirty.isEmpty()) {
      return new Plan<>(Set.of(), startFirst, null);
    }
    long room = p.parallelism() == 0 ? dirty.size() : p.parallelism() - inFlight;
    if (room <= 0) {
      return new Plan<>(Set.of(), startFirst, null);
    }
    return new Plan<>(new LinkedHashSet<>(dirty.subList(0, (int) Math.min(room, dirty.size()))),
        startFirst, null);
  }

  /**
   * A new task that failed before it ran, or within the monitor window of starting to run: the
   * update's failure (swarmkit's "failure or early termination"). A later failure is the restart
   * policy's business.
   */
  private static boolean failedEarly(TaskEntity.State t, long monitor) {
    if (t.state() != TaskState.FAILED && t.state() != TaskState.REJECTED) {
      return false;
    }
    return t.runningAt() == null || !t.status().timestamp().isAfter(t.runningAt().plusNanos(monitor));
  }

  /** Whether the task runs the service's current spec and endpoint ports (swarmkit's !IsTaskDirty). */
  public static boolean current(ServiceEntity.State s, TaskEntity.State t) {
    return Objects.equals(t.definition().spec(), s.spec().task())
        && t.definition().endpointPorts().equals(s.endpointPorts());
  }

  /** The update or rollback config, with swarmkit's defaults for what is not set. */
  public static ServiceSpec.UpdatePolicy policy(ServiceEntity.State s, boolean rollback) {
    return Optional.ofNullable(rollback ? s.spec().rollback() : s.spec().update()).orElse(DEFAULT);
  }
}
