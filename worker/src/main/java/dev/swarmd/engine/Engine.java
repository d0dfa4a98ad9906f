package dev.swarmd.engine;

import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.TaskAssignment;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/** The container runtime a node runs its tasks on. Docker's engine (through docker-java) is the real one. */
public interface Engine {

  /**
   * A container of this node, as the agent needs it. exitCode is meaningful once it is not running;
   * health is null without a health check, else starting, healthy or unhealthy; hostPorts: the
   * host port bound for each published container port ("80/tcp"), known from inspect only.
   */
  /** address: the container's IP on its network, when it runs and inspect told it (null from a list). */
  record Container(String id, String taskId, String state, boolean running, long exitCode, int pid, String health,
      Map<String, Integer> hostPorts, String address) {
    public boolean healthChecked() {
      return health != null;
    }
  }

  NodeDescription describe(String hostname);

  /** The engine's own /info document (JSON), for the parts of `docker info` that are about the engine. */
  String rawInfo();

  boolean imagePresent(String image);

  /** Tries to pull the image; false when it cannot be had. */
  boolean pull(String image);

  /**
   * Creates the task's container, or returns the one that already exists under its name. Its
   * endpoint ports are published on nodeAddr: ingress ones on a host port the engine picks (the
   * routing mesh forwards to it), host-mode ones on their published port. dns: the container's
   * resolvers (the swarm's DNS), or none for the engine's default.
   */
  String create(TaskAssignment task, String nodeId, String hostname, String nodeAddr, List<String> dns);

  /**
   * The host's address on the engine's default bridge, where its containers reach this host: the
   * IPAM gateway if the engine names one, else the bridge interface's address, else the subnet's
   * first host (the engine's own choice). Null when the engine has no such bridge.
   */
  String bridgeGateway();

  /** The IPv4 subnets of every network the engine has, with the network's name, for the swarm's pool to avoid. */
  Map<String, List<String>> networkSubnets();

  void start(String containerId);

  /** Stops the container (signal, then kill after the grace period) and keeps it, for its exit code and logs. */
  void stop(String containerId, long gracePeriodNanos);

  /** Stops and removes the container; its exit code, or null when it was gone already. */
  Integer stopAndRemove(String containerId, long gracePeriodNanos);

  Optional<Container> inspect(String containerId);

  /** Every container this node created, running or not. */
  List<Container> list(String nodeId);

  /**
   * Calls back whenever a container of this node stops or its health changes, with the container's task ID
   * when it died or turned unhealthy, else (another health change; the engine's stream reconnected) null.
   * Reconnects on its own until closed.
   */
  AutoCloseable onContainerExit(String nodeId, Consumer<String> callback);
}
