package dev.swarmd.scheduler;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.task.TaskEntity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Assigns pending tasks to nodes, as swarmkit's scheduler: filter the nodes (ready, active,
 * constraints), then spread (fewest tasks of the service, then fewest tasks overall).
 */
public final class Scheduler {

  /** A decision: assign the task to nodeId, or leave it pending with err saying why. */
  public record Decision(String taskId, String nodeId, String err) {}

  private Scheduler() {}

  public static List<Decision> schedule(Collection<TaskEntity.State> tasks, Collection<NodeEntity.State> nodes,
      Instant now) {
    Map<String, Integer> total = new HashMap<>();
    Map<String, Integer> perService = new HashMap<>();
    Map<String, Set<String>> hostPorts = new HashMap<>();
    for (TaskEntity.State t : tasks) {
      if (t.nodeId() != null && live(t)) {
        total.merge(t.nodeId(), 1, Integer::sum);
        perService.merge(t.definition().serviceId() + "/" + t.nodeId(), 1, Integer::sum);
        hostPorts.computeIfAbsent(t.nodeId(), k -> new HashSet<>()).addAll(hostPorts(t));
      }
    }
    List<NodeEntity.State> available = nodes.stream()
        .filter(n -> n.ready() && "active".equals(n.spec().availability()))
        .sorted(Comparator.comparing(NodeEntity.State::id))
        .toList();
    List<TaskEntity.State> pending = tasks.stream()
        .filter(t -> t.nodeId() == null && t.state() == TaskState.PENDING && t.desired() == TaskState.RUNNING)
        .filter(t -> t.definition().notBefore() == null || !t.definition().notBefore().isAfter(now))
        .sorted(Comparator.comparing(TaskEntity.State::createdAt).thenComparing(t -> t.definition().slot()))
        .toList();

    List<Decision> decisions = new ArrayList<>();
    for (TaskEntity.State t : pending) {
      ServiceSpec.Placement placement = t.definition().spec().placement();
      List<Constraint> constraints = Constraint.parseAll(placement == null ? null : placement.constraints());
      long maxReplicas = placement == null ? 0 : placement.maxReplicas();
      String service = t.definition().serviceId();
      Set<String> ports = hostPorts(t);
      List<NodeEntity.State> fit = available.stream()
          .filter(n -> constraints.stream().allMatch(c -> c.matches(n)))
          .filter(n -> maxReplicas == 0 || perService.getOrDefault(service + "/" + n.id(), 0) < maxReplicas)
          .filter(n -> Collections.disjoint(ports, hostPorts.getOrDefault(n.id(), Set.of())))
          .toList();
      if (fit.isEmpty()) {
        long portBusy = available.stream()
            .filter(n -> !Collections.disjoint(ports, hostPorts.getOrDefault(n.id(), Set.of()))).count();
        decisions.add(new Decision(t.id(), null, whyNot(nodes, available, constraints, maxReplicas, portBusy)));
        continue;
      }
      NodeEntity.State best = fit.stream()
          .min(Comparator.<NodeEntity.State>comparingInt(n -> perService.getOrDefault(service + "/" + n.id(), 0))
              .thenComparingInt(n -> total.getOrDefault(n.id(), 0)))
          .orElseThrow();
      total.merge(best.id(), 1, Integer::sum);
      perService.merge(service + "/" + best.id(), 1, Integer::sum);
      hostPorts.computeIfAbsent(best.id(), k -> new HashSet<>()).addAll(ports);
      decisions.add(new Decision(t.id(), best.id(), null));
    }
    return decisions;
  }

  /** A task counts against a node while it is wanted and has not ended. */
  static boolean live(TaskEntity.State t) {
    return !t.desired().terminal() && !t.state().terminal();
  }

  /** The host-mode ports (protocol/port) the task binds on its node: no two live tasks of a node share one. */
  static Set<String> hostPorts(TaskEntity.State t) {
    Set<String> out = new HashSet<>();
    for (ServiceSpec.PortConfig p : t.definition().endpointPorts()) {
      if (p.publishMode().equals("host") && p.publishedPort() > 0) {
        out.add(p.protocol() + "/" + p.publishedPort());
      }
    }
    return out;
  }

  /** Swarmkit's wording: "no suitable node (<reason> on N node[s])". */
  private static String whyNot(Collection<NodeEntity.State> all, List<NodeEntity.State> available,
      List<Constraint> constraints, long maxReplicas, long portBusy) {
    List<String> reasons = new ArrayList<>();
    int unavailable = all.size() - available.size();
    if (unavailable > 0) {
      reasons.add(unavailable + node(unavailable) + " not available for new tasks");
    }
    long unmatched = available.stream().filter(n -> !constraints.stream().allMatch(c -> c.matches(n))).count();
    if (unmatched > 0) {
      reasons.add("scheduling constraints not satisfied on " + unmatched + node(unmatched));
    }
    long full = available.size() - unmatched;
    if (maxReplicas > 0 && full > 0) {
      reasons.add("max replicas per node limit exceed on " + full + node(full));
    }
    if (portBusy > 0) {
      reasons.add("host-mode port already in use on " + portBusy + node(portBusy));
    }
    if (reasons.isEmpty()) {
      return "no suitable node";
    }
    return "no suitable node (" + String.join("; ", reasons) + ")";
  }

  private static String node(long n) {
    return n == 1 ? " node" : " nodes";
  }
}
