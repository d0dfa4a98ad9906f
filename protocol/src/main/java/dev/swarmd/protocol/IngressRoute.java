package dev.swarmd.protocol;

import java.util.List;
import java.util.Objects;

/**
 * One published ingress port of the routing mesh, as every node serves it: connections (TCP) or
 * flows (UDP) to publishedPort on any node go to one of the backends, each a running task's
 * container port as bound on its own node's address. proxyProtocol: send a PROXY v2 header first.
 */
public record IngressRoute(int publishedPort, String protocol, String serviceName, boolean proxyProtocol,
    List<Backend> backends) implements CborSerializable {

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

  /** One task a route forwards to: its container port as published on its own node's address. */
  public record Backend(String taskId, String host, int port) implements CborSerializable {
    public Backend {
      Objects.requireNonNull(taskId, "taskId");
      Objects.requireNonNull(host, "host");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("backend port out of range: " + port);
      }
    }
  }
}
