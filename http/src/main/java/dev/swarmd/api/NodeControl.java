package dev.swarmd.api;

import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.swarm.SwarmRuntime;
import java.util.List;
import java.util.Optional;

/** This node's membership in a swarm, as the API needs it; the daemon implements it. */
public interface NodeControl {

  /** What `swarm init` asked, validated. availability: active|pause|drain. */
  /** defaultAddrPool: empty for Docker's default; subnetSize: 0 for Docker's default. */
  record InitRequest(String listenAddr, String advertiseAddr, String availability, boolean forceNewCluster,
      List<String> defaultAddrPool, int subnetSize) {}

  /** What `swarm join` asked. availability: active|pause|drain. */
  record JoinRequest(String listenAddr, String advertiseAddr, List<String> remoteAddrs, String token,
      String availability) {}

  /** The running swarm runtime, empty while the node is in no swarm. */
  Optional<SwarmRuntime> runtime();

  /** Whether this node is the swarm's manager (and so may answer manager calls). */
  boolean isManager();

  /** inactive, pending, active, error, locked (Docker's LocalNodeState). */
  String localState();

  String nodeId();

  /** The address other nodes reach this node at (no port). */
  String nodeAddr();

  /** The manager's swarm address (host:2377), or null. */
  String managerAddr();

  /** Creates a swarm with this node as its manager; returns the node ID. */
  String init(InitRequest request);

  /** Joins a swarm as a worker through a manager's join endpoint. */
  void join(JoinRequest request);

  void leave(boolean force);

  NodeDescription describe();

  boolean imagePresent(String image);

  /** What keeps this node from serving part of the swarm's network; for `docker info`. */
  List<String> warnings();

  /** The engine's own /info document. */
  String engineInfo();
}
