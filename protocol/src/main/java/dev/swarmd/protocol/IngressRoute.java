package dev.swarmd.protocol;

import java.util.List;

/**
 * One published ingress port of the routing mesh, as every node serves it: connections (TCP) or
 * flows (UDP) to publishedPort on any node go to one of the backends, each a running task's
 * container port as bound on its own node's address. proxyProtocol: send a PROXY v2 header first.
 */
public record IngressRoute(int publishedPort, String protocol, String serviceName, boolean proxyProtocol,
    List<Backend> backends) implements CborSerializable {

  public record Backend(String taskId, String host, int port) implements CborSerializable {}
}
