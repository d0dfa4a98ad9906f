package dev.swarmd.update;

import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The rolling update of a replicated service, as swarmkit's updater: which slots still running an
 * older spec are replaced now (Parallelism at a time, Delay after each batch is running), in which
 * order (stop-first or start-first), and what a failed new task does to the update (FailureAction
 * over MaxFailureRatio). Pure and level-triggered: its progress is the tasks themselves, so an
 * update survives a manager restart without replacing a slot twice or skipping one.
 */
public final class Updater {
  static final ServiceSpec.UpdatePolicy DEFAULT =
      new ServiceSpec.UpdatePolicy(1, 0, "pause", Duration.ofSeconds(5).toNanos(), 0, "stop-first");

  /** The slots to replace now, and how; failure is set when the update must pause or roll back. */
  public record Plan(Set<Integer> slots, boolean startFirst, Failure failure) {
    static Plan none() {
      return new Plan(Set.of(), false, null);
    }
  }

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

  public static Plan plan(ServiceEntity.State s, Map<Integer, List<TaskEntity.State>> bySlot, Instant now) {
    ServiceEntity.UpdateStatus u = s.updateStatus();
    if (u != null && !u.state().equals("updating") && !u.state().equals("rollback_started")) {
      return Plan.none();
    }
    boolean rollback = u != null && u.state().equals("rollback_started");
    ServiceSpec.UpdatePolicy p = policy(s, rollback);
    Instant started = u == null || u.startedAt() == null ? now : u.startedAt();
    long replicas = s.spec().mode().replicas();

    Set<Integer> dirty = new TreeSet<>();
    int inFlight = 0;
    int failures = 0;
    TaskEntity.State failed = null;
    Instant lastRunning = null;
    for (int slot = 1; slot <= replicas; slot++) {
      TaskEntity.State liveCurrent = null;
      boolean oldLive = false;
      for (TaskEntity.State t : bySlot.getOrDefault(slot, List.of())) {
        boolean current = Objects.equals(t.definition().spec(), s.spec().task());
        if (current && !t.createdAt().isBefore(started)
            && (t.state() == TaskState.FAILED || t.state() == TaskState.REJECTED)) {
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
          Instant at = liveCurrent.status().timestamp();
          lastRunning = lastRunning == null || at.isAfter(lastRunning) ? at : lastRunning;
        }
      } else if (oldLive) {
        dirty.add(slot);
      } else {
        // Its old task stopping, or stopped and its replacement not created yet: still this batch's.
        inFlight++;
      }
    }
    if (failures > 0 && !p.failureAction().equals("continue")
        && (double) failures / Math.max(1, replicas) > p.maxFailureRatio()) {
      String action = p.failureAction().equals("rollback") && !rollback ? "rollback" : "pause";
      return new Plan(Set.of(), false, new Failure(action, failed.id(), rollback));
    }
    if (dirty.isEmpty()) {
      return Plan.none();
    }
    long room = p.parallelism() == 0 ? dirty.size() : p.parallelism() - inFlight;
    boolean waitingForDelay = inFlight == 0 && lastRunning != null && p.delay() > 0
        && now.isBefore(lastRunning.plusNanos(p.delay()));
    if (room <= 0 || waitingForDelay) {
      return new Plan(Set.of(), p.order().equals("start-first"), null);
    }
    Set<Integer> batch = new TreeSet<>();
    dirty.stream().sorted(Comparator.naturalOrder()).limit(room).forEach(batch::add);
    return new Plan(batch, p.order().equals("start-first"), null);
  }

  /** The update or rollback config, with swarmkit's defaults for what is not set. */
  public static ServiceSpec.UpdatePolicy policy(ServiceEntity.State s, boolean rollback) {
    return Optional.ofNullable(rollback ? s.spec().rollback() : s.spec().update()).orElse(DEFAULT);
  }
}
