package dev.swarmd.join;

import dev.swarmd.protocol.NodeDescription;
import java.util.List;

/** What a joining node and the manager's join endpoint exchange (JSON over TLS). */
final class JoinMessages {
  private JoinMessages() {}

  /** publicKey: the joiner's public key, PEM; addr: the address the joiner advertises. */
  record Request(String token, String publicKey, String addr, String availability, NodeDescription description) {}

  /** seeds: the managers' cluster addresses (pekko://swarm@host:port). */
  record Response(String nodeId, String certificate, String caCertificate, List<String> seeds, String managerAddr) {}

  record Error(String message) {}
}
