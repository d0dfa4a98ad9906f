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

  /**
   * The node's agent saw the process of its running task end, before the engine reported it: the mesh of
   * every node drops the task at once, and its state follows with the agent's report of the engine's exit.
   */
  void processEnded(String nodeId, String taskId);

  /** The routing mesh's table, the same for every node. */
  List<IngressRoute> routes();

  /** The swarm's DNS table, the same for every node. */
  List<ServiceName> names();

  /**
   * The address the swarm's DNS answers containers on (the first of the swarm's subnet, the same for
   * every node, which serves it as a nat rule); null until known.
   */
  String resolver();

  /** The swarm's subnet, which the resolver and the virtual IPs are in (CIDR); null until known. */
  String subnet();

  /** Calls back (on any thread) whenever assignments, routes or names may have changed. */
  void watch(Runnable onChange);

  /**
   * Whether the assignments are known: a worker's are not until the manager has sent them, and
   * until then its agent must not take "no assignment" to mean "remove every container".
   */
  boolean synced();
}
