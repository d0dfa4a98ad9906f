package dev.swarmd.endpoint;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.ServiceName;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The swarm's DNS table: each service's name with the addresses of the tasks that take traffic,
 * by the same rule as the routing mesh (running, wanted, on a node that is up).
 */
public final class Names {
  private Names() {}

  public static List<ServiceName> of(Collection<ServiceEntity.State> services, Collection<TaskEntity.State> tasks,
      Collection<NodeEntity.State> nodes) {
    Set<String> ready = nodes.stream().filter(NodeEntity.State::ready).map(NodeEntity.State::id)
        .collect(Collectors.toSet());
    Map<String, List<TaskEntity.State>> byService = tasks.stream()
        .filter(t -> t.desired() == TaskState.RUNNING && t.state() == TaskState.RUNNING)
        .filter(t -> t.nodeId() != null && ready.contains(t.nodeId()) && t.status().address() != null)
        .collect(Collectors.groupingBy(t -> t.definition().serviceId()));
    List<ServiceName> names = new ArrayList<>();
    for (ServiceEntity.State s : services) {
      List<String> addresses = byService.getOrDefault(s.id(), List.of()).stream()
          .sorted(Comparator.comparing(TaskEntity.State::id))
          .map(t -> t.status().address())
          .toList();
      names.add(new ServiceName(s.spec().name(), s.id(), endpointMode(s), s.activeVirtualIp(), addresses));
    }
    names.sort(Comparator.comparing(ServiceName::name));
    return List.copyOf(names);
  }

  private static String endpointMode(ServiceEntity.State s) {
    return s.spec().endpoint() == null || s.spec().endpoint().mode() == null ? "vip" : s.spec().endpoint().mode();
  }
}
