package dev.swarmd.view;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.swarm.SwarmEntity;
import dev.swarmd.task.TaskEntity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read view as the journal left it at a tag offset, with the Version.Index and the head of the
 * hash chain: a manager starts from it and replays only the events after it. It is derived data:
 * a missing or unreadable one only means a full replay.
 */
public record ViewSnapshot(long offset, long index, long headIndex, String head,
    List<ServiceEntity.State> services, List<TaskEntity.State> tasks, List<NodeEntity.State> nodes,
    SwarmEntity.State swarm) implements CborSerializable {
  private static final Logger LOG = LoggerFactory.getLogger(ViewSnapshot.class);
  public static final String FILE = "view-snapshot.cbor";

  public static ViewSnapshot of(long offset, long index, long headIndex, String head, SwarmView view) {
    return new ViewSnapshot(offset, index, headIndex, head, List.copyOf(view.services()),
        List.copyOf(view.tasks()), List.copyOf(view.nodes()), view.swarm());
  }

  /** The view it holds, as a fresh SwarmView would have it after replaying the journal up to offset. */
  public void restore(SwarmView view) {
    services.forEach(view::put);
    tasks.forEach(view::put);
    nodes.forEach(view::put);
    view.put(swarm);
  }

  public static Optional<ViewSnapshot> read(ActorSystem<?> system, Path dir) {
    Path file = dir.resolve(FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(mapper(system).readValue(file.toFile(), ViewSnapshot.class));
    } catch (IOException | RuntimeException e) {
      LOG.warn("view snapshot {} is unreadable ({}); replaying the whole journal", file, e.toString());
      return Optional.empty();
    }
  }

  /** Written beside and renamed over the last one, so that a crash leaves the old one or the new one. */
  public void write(ActorSystem<?> system, Path dir) throws IOException {
    Path tmp = dir.resolve(FILE + ".tmp");
    mapper(system).writeValue(tmp.toFile(), this);
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static ObjectMapper mapper(ActorSystem<?> system) {
    return JacksonObjectMapperProvider.get(system).getOrCreate("jackson-cbor", Optional.of(new CBORFactory()));
  }
}
