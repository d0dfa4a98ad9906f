package dev.swarmd.protocol;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The manager's side of the agent protocol: a node's agent reads only its own assignments and
 * reports status; the manager accepts a report only for a task assigned to that node.
 */
public interface Dispatcher {
  List<TaskAssignment> assignments(String nodeId);

  /** Completes with false when the manager refused the report (not this node's task, or stale). */
  CompletionStage<Boolean> report(StatusReport report);

  /** The routing mesh's table, the same for every node. */
  List<IngressRoute> routes();

  /** The swarm's DNS table, the same for every node. */
  List<ServiceName> names();

  /** Calls back (on any thread) whenever assignments, routes or names may have changed. */
  void watch(Runnable onChange);

  /**
   * Whether the assignments are known: a worker's are not until the manager has sent them, and
   * until then its agent must not take "no assignment" to mean "remove every container".
   */
  boolean synced();
}
