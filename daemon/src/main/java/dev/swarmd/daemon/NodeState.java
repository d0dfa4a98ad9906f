package dev.swarmd.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/**
 * What this node needs to come back into its swarm after a restart, kept beside the journal as
 * dockerd keeps swarm/state.json. Written (synced, then renamed into place) before the swarm starts.
 */
record NodeState(String nodeId, String role, String advertiseHost, int listenPort, String availability,
    List<String> seeds, String managerAddr) {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  static Optional<NodeState> read(Path swarmDir) throws IOException {
    Path file = swarmDir.resolve("state.json");
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    return Optional.of(MAPPER.readValue(file.toFile(), NodeState.class));
  }

  void write(Path swarmDir) throws IOException {
    Files.createDirectories(swarmDir);
    Path tmp = swarmDir.resolve("state.json.tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap(MAPPER.writeValueAsBytes(this)));
      ch.force(true);
    }
    Files.move(tmp, swarmDir.resolve("state.json"), StandardCopyOption.ATOMIC_MOVE);
  }

  boolean manager() {
    return "manager".equals(role);
  }
}
