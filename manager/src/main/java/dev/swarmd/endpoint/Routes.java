package dev.swarmd.endpoint;

import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The routing mesh's table: for each ingress port of each service, and each target port of each
 * service's virtual IP, the tasks that take traffic.
 * A task does once it runs (and, with a health check, is healthy: it is not "running" before) and
 * while it is wanted and its node is up; one told to stop leaves the table before it stops.
 */
public final class Routes {
  /**
   * Service label asking for a PROXY protocol v2 header on its TCP ingress ports: "true" for all,
   * or a comma-separated list of published ports.
   */
  public static final String PROXY_PROTOCOL_LABEL = "dev.swarmd.ingress.proxy-protocol";

  private Routes() {}

  public static List<IngressRoute> of(Collection<ServiceEntity.State> services, Collection<TaskEntity.State> tasks,
      Collection<NodeEntity.State> nodes) {
    Map<String, NodeEntity.State> byId = nodes.stream()
        .collect(Collectors.toMap(NodeEntity.State::id, Function.identity()));
    Map<String, List<TaskEntity.State>> byService = tasks.stream()
        .filter(t -> t.desired() == TaskState.RUNNING && t.state() == TaskState.RUNNING)
        .filter(t -> t.nodeId() != null && byId.containsKey(t.nodeId()) && byId.get(t.nodeId()).ready())
        .collect(Collectors.groupingBy(t -> t.definition().serviceId()));
    List<IngressRoute> routes = new ArrayList<>();
    for (ServiceEntity.State s : services) {
      for (ServiceSpec.PortConfig p : s.endpointPorts()) {
        if (!p.publishMode().equals("ingress") || p.publishedPort() == 0 || p.protocol().equals("sctp")) {
          continue;
        }
        List<IngressRoute.Backend> backends = new ArrayList<>();
        for (TaskEntity.State t : byService.getOrDefault(s.id(), List.of())) {
          t.status().boundPorts().stream()
              .filter(b -> b.publishMode().equals("ingress") && b.protocol().equals(p.protocol())
                  && b.targetPort() == p.targetPort())
              .findFirst()
              .ifPresent(b -> backends.add(backend(t, byId.get(t.nodeId()).addr(), b)));
        }
        backends.sort(Comparator.comparing(IngressRoute.Backend::taskId));
        routes.add(new IngressRoute(p.publishedPort(), p.protocol(), s.spec().name(),
            p.protocol().equals("tcp") && proxyProtocol(s.spec().labels(), p.publishedPort()), List.copyOf(backends)));
      }
    }
    for (ServiceEntity.State s : services) {
      if (s.activeVirtualIp() != null) {
        routes.addAll(virtualIpRoutes(s, byService.getOrDefault(s.id(), List.of()), byId));
      }
    }
    routes.sort(Comparator.comparing((IngressRoute r) -> r.bindAddress() == null ? "" : r.bindAddress())
        .thenComparingInt(IngressRoute::publishedPort).thenComparing(IngressRoute::protocol));
    return List.copyOf(routes);
  }

  /**
   * A vip-mode service's virtual IP, on each of its target ports: to a task's port as its node
   * publishes it for the mesh, when it does (reachable from any node), else to the task's container
   * address (reachable where container addresses route: its own machine).
   */
  private static List<IngressRoute> virtualIpRoutes(ServiceEntity.State s, List<TaskEntity.State> tasks,
      Map<String, NodeEntity.State> nodes) {
    List<IngressRoute> routes = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (ServiceSpec.PortConfig p : s.endpointPorts()) {
      if (p.protocol().equals("sctp") || !seen.add(p.targetPort() + "/" + p.protocol())) {
        continue;
      }
      List<IngressRoute.Backend> backends = new ArrayList<>();
      for (TaskEntity.State t : tasks) {
        Optional<ServiceSpec.PortConfig> published = t.status().boundPorts().stream()
            .filter(b -> b.publishMode().equals("ingress") && b.protocol().equals(p.protocol())
                && b.targetPort() == p.targetPort())
            .findFirst();
        if (published.isPresent()) {
          backends.add(backend(t, nodes.get(t.nodeId()).addr(), published.get()));
        } else if (t.status().address() != null) {
          backends.add(new IngressRoute.Backend(t.id(), t.status().address(), p.targetPort()));
        }
      }
      backends.sort(Comparator.comparing(IngressRoute.Backend::taskId));
      routes.add(new IngressRoute(s.activeVirtualIp(), p.targetPort(), p.protocol(), s.spec().name(), false,
          List.copyOf(backends)));
    }
    return routes;
  }

  /** A task's port as its node publishes it, with the container's own address where the task reported one. */
  private static IngressRoute.Backend backend(TaskEntity.State t, String nodeAddr, ServiceSpec.PortConfig bound) {
    String container = t.status().address();
    return new IngressRoute.Backend(t.id(), nodeAddr, bound.publishedPort(), container,
        container == null ? 0 : bound.targetPort());
  }

  static boolean proxyProtocol(Map<String, String> labels, int port) {
    String v = labels == null ? null : labels.get(PROXY_PROTOCOL_LABEL);
    if (v == null) {
      return false;
    }
    if (v.trim().equalsIgnoreCase("true")) {
      return true;
    }
    Set<String> ports = Arrays.stream(v.split(",")).map(String::trim).collect(Collectors.toSet());
    return ports.contains(String.valueOf(port));
  }
}
