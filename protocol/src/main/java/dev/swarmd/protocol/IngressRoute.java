package dev.swarmd.protocol;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One port of the routing mesh, as every node serves it: connections (TCP) or flows (UDP) to
 * publishedPort on bindAddress go to one of the backends. bindAddress null: a published ingress
 * port, on the node's own address, whose backends are the tasks' container ports as bound on their
 * nodes' addresses; else a service's virtual IP, with the service's target port in publishedPort.
 * proxyProtocol: send a PROXY v2 header first.
 */
public record IngressRoute(String bindAddress, int publishedPort, String protocol, String serviceName,
    boolean proxyProtocol, List<Backend> backends) implements CborSerializable {

  public IngressRoute(int publishedPort, String protocol, String serviceName, boolean proxyProtocol,
      List<Backend> backends) {
    this(null, publishedPort, protocol, serviceName, proxyProtocol, backends);
  }

  public IngressRoute {
    if (publishedPort < 1 || publishedPort > 65535) {
      throw new IllegalArgumentException("published port out of range: " + publishedPort);
    }
    if (!"tcp".equals(protocol) && !"udp".equals(protocol)) {
      throw new IllegalArgumentException("protocol must be tcp or udp: " + protocol);
    }
    Objects.requireNonNull(serviceName, "serviceName");
    backends = backends == null ? List.of() : List.copyOf(backends);
  }

  /** The route without the backends of the given tasks (itself when it has none of them). */
  public IngressRoute without(Set<String> taskIds) {
    if (taskIds.isEmpty() || backends.stream().noneMatch(b -> taskIds.contains(b.taskId()))) {
      return this;
    }
    return new IngressRoute(bindAddress, publishedPort, protocol, serviceName, proxyProtocol,
        backends.stream().filter(b -> !taskIds.contains(b.taskId())).toList());
  }

  /**
   * One task a route forwards to: its container port as published on its own node's address (host,
   * port), reachable from every node, and the container's own address and port (containerAddress null
   * when not known), which only the task's own node may use, saving the engine's proxy.
   */
  public record Backend(String taskId, String host, int port, String containerAddress, int containerPort)
      implements CborSerializable {
    public Backend(String taskId, String host, int port) {
      this(taskId, host, port, null, 0);
    }

    public Backend {
      Objects.requireNonNull(taskId, "taskId");
      Objects.requireNonNull(host, "host");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("backend port out of range: " + port);
      }
      if (containerAddress != null && (containerPort < 1 || containerPort > 65535)) {
        throw new IllegalArgumentException("container port out of range: " + containerPort);
      }
    }
  }
}
