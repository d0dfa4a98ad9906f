package dev.swarmd.dispatcher;

import dev.swarmd.protocol.Cause;
import dev.swarmd.endpoint.Names;
import dev.swarmd.endpoint.Routes;
import dev.swarmd.protocol.Dispatcher;
import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceName;
import dev.swarmd.protocol.StatusReport;
import dev.swarmd.protocol.TaskAssignment;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.store.Entities;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.view.SwarmView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletionStage;

/**
 * The manager's dispatcher: hands each node the tasks assigned to it (a restart once its delay is over)
 * and turns the node's status reports into task commands. The task entity refuses a report from a node
 * the task is not on.
 */
public final class ManagerDispatcher implements Dispatcher {
  private final SwarmView view;
  private final Entities entities;
  /**
   * Running tasks whose node saw their process end and the engine has not reported yet: out of the routes
   * until their state moves on. Not journaled: the routing table is derived state, and the report follows.
   */
  private final Set<String> ended = ConcurrentHashMap.newKeySet();
  private final List<Runnable> watchers = new CopyOnWriteArrayList<>();
  private final Clock clock;

  public ManagerDispatcher(SwarmView view, Entities entities) {
    this(view, entities, Clock.systemUTC());
  }

  /** clock: what tells a restart's delay over. */
  ManagerDispatcher(SwarmView view, Entities entities, Clock clock) {
    this.view = view;
    this.entities = entities;
    this.clock = clock;
  }

  /** The node's tasks, but for a restart whose delay is not over yet (see {@link #withheld}). */
  @Override
  public List<TaskAssignment> assignments(String nodeId) {
    Instant now = clock.instant();
    return view.tasks().stream()
        .filter(t -> nodeId.equals(t.nodeId()) && !withheld(t, now))
        .map(t -> new TaskAssignment(t.id(), t.definition().serviceId(), t.definition().serviceName(),
            t.definition().slot(), t.nodeId(), t.definition().spec(), t.desired(), t.state(),
            t.status().containerId(), t.definition().endpointPorts()))
        .toList();
  }

  /** How long until the first withheld task is due to its node, if any task is withheld. */
  public Optional<Duration> untilNextHandover() {
    Instant now = clock.instant();
    return view.tasks().stream()
        .filter(t -> t.nodeId() != null && withheld(t, now))
        .map(t -> Duration.between(now, t.definition().notBefore()))
        .min(Comparator.naturalOrder());
  }

  /**
   * A restart is not handed to its node before its notBefore (the restart delay), whatever ended the task
   * it replaces. The scheduler does not place a replicated one before then, but a global one is created
   * on its node, and its agent would start it at once: a task that never starts would be replaced as fast
   * as its node fails it. Only a task wanted running that its node has not taken up yet is withheld, so
   * that one told to stop is still heard of, and a clock going back never takes a started one away.
   */
  private static boolean withheld(TaskEntity.State t, Instant now) {
    Instant notBefore = t.definition().notBefore();
    return notBefore != null && notBefore.isAfter(now) && t.desired() == TaskState.RUNNING
        && t.state() == TaskState.ASSIGNED;
  }

  @Override
  public List<IngressRoute> routes() {
    List<IngressRoute> routes = Routes.of(view.services(), view.tasks(), view.nodes());
    ended.removeIf(id -> !runningOn(id, null));
    if (ended.isEmpty()) {
      return routes;
    }
    Set<String> out = Set.copyOf(ended);
    return routes.stream().map(r -> r.without(out)).toList();
  }

  /** Taken only from the task's own node, for a task that runs there. */
  @Override
  public void processEnded(String nodeId, String taskId) {
    if (runningOn(taskId, nodeId) && ended.add(taskId)) {
      watchers.forEach(Runnable::run);
    }
  }

  /** Whether the task runs (on nodeId, unless null), as far as the view knows. */
  private boolean runningOn(String taskId, String nodeId) {
    return view.task(taskId)
        .filter(t -> t.state() == TaskState.RUNNING && (nodeId == null || nodeId.equals(t.nodeId())))
        .isPresent();
  }

  @Override
  public List<ServiceName> names() {
    return Names.of(view.services(), view.tasks(), view.nodes());
  }

  @Override
  public String resolver() {
    SwarmEntity.State swarm = view.swarm();
    return swarm.exists() ? swarm.addressPool().resolver() : null;
  }

  @Override
  public String subnet() {
    SwarmEntity.State swarm = view.swarm();
    return swarm.exists() ? swarm.addressPool().vipSubnet() : null;
  }

  @Override
  public CompletionStage<Boolean> report(StatusReport r) {
    TaskEntity.Status status = new TaskEntity.Status(r.state(), r.message(), r.err(), Instant.now(),
        r.containerId(), r.exitCode(), r.pid(), r.ports(), r.address());
    // A failed task keeps Docker's message of its last step ("started"); what it reports is its error.
    String reason = r.err() != null && !r.err().isBlank() ? r.err() : r.message();
    Cause cause = Cause.loop("agent " + r.nodeId(), reason);
    return entities.task(r.taskId(),
            replyTo -> new TaskEntity.Report(r.nodeId(), status, cause, replyTo))
        .thenApply(reply -> reply.failure() == null);
  }

  @Override
  public void watch(Runnable onChange) {
    view.watch(onChange);
    watchers.add(onChange);
  }

  @Override
  public boolean synced() {
    return true;
  }
}
