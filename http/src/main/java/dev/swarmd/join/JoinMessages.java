package dev.swarmd.join;

import dev.swarmd.protocol.NodeDescription;
import java.util.List;

/** What a joining node and the manager's join endpoint exchange (JSON over TLS). */
final class JoinMessages {
  private JoinMessages() {}

  /** publicKey: the joiner's public key, PEM; addr: the address the joiner advertises. */
  record Request(String token, String publicKey, String addr, String availability, NodeDescription description) {}

  /**
   * role: manager or worker, as the token said; caKey and raftGroup, for a manager only: the CA's key,
   * PEM (it signs the certificates of the nodes that join it) and the ID of the Raft group it joins;
   * seeds: the managers' cluster addresses (pekko://swarm@host:port).
   */
  record Response(String nodeId, String role, String certificate, String caCertificate, String caKey,
      String raftGroup, List<String> seeds, String managerAddr) {}

  record Error(String message) {}
}
