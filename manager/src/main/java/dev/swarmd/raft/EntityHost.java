package dev.swarmd.raft;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.swarmd.protocol.CborSerializable;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the entities live: on the manager that leads the Raft group, as swarmkit keeps its store on
 * the leader. Every manager runs a host; the leader's makes each entity on its first command and
 * recovers it from the local journal (which has every committed event once this manager leads); the
 * others receive nothing, since commands are sent to the leader's host. Losing leadership stops the
 * entities, whose state may then fall behind the log.
 */
public final class EntityHost {
  private static final Logger LOG = LoggerFactory.getLogger(EntityHost.class);
  /** The host's name under /system on every manager, where the others find the leader's. */
  public static final String NAME = "entity-host";
  private static final long WAIT_FOR_READY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
  private static final int MAX_WAITING = 10_000;

  private EntityHost() {}

  public sealed interface Msg {}

  /** A command for the entity type|id; the command carries its own reply address. */
  public record Deliver(String type, String id,
      @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS) CborSerializable command) implements Msg, CborSerializable {}

  private record Leading(boolean leading) implements Msg {}

  private record Stopped(String key) implements Msg {}

  /** kinds: for each entity type, how to make the entity of an ID. */
  public static Behavior<Msg> create(RaftLog log, Map<String, Function<String, Behavior<?>>> kinds) {
    return Behaviors.setup(ctx -> {
      ActorRef<Msg> self = ctx.getSelf();
      log.watchLeading(leading -> self.tell(new Leading(leading)));
      return new Host(ctx, kinds).behavior();
    });
  }

  private static final class Host {
    private final ActorContext<Msg> ctx;
    private final Map<String, Function<String, Behavior<?>>> kinds;
    private final Map<String, ActorRef<Object>> entities = new HashMap<>();
    /** Commands that came before this manager was ready to lead (its election just won), with their arrival. */
    private final java.util.ArrayDeque<Map.Entry<Long, Deliver>> waiting = new java.util.ArrayDeque<>();
    private boolean leading;
    /** Names stay unique when an entity is made again before its stopped predecessor is gone. */
    private long made;

    Host(ActorContext<Msg> ctx, Map<String, Function<String, Behavior<?>>> kinds) {
      this.ctx = ctx;
      this.kinds = kinds;
    }

    Behavior<Msg> behavior() {
      return Behaviors.receive(Msg.class)
          .onMessage(Deliver.class, this::deliver)
          .onMessage(Leading.class, m -> {
            leading = m.leading();
            if (leading) {
              while (!waiting.isEmpty()) {
                deliver(waiting.poll().getValue());
              }
            } else {
              entities.values().forEach(ctx::stop);
              entities.clear();
            }
            return Behaviors.same();
          })
          .onMessage(Stopped.class, m -> {
            entities.remove(m.key());
            return Behaviors.same();
          })
          .build();
    }

    @SuppressWarnings("unchecked")
    private Behavior<Msg> deliver(Deliver d) {
      Function<String, Behavior<?>> kind = kinds.get(d.type());
      if (kind == null) {
        LOG.warn("command for unknown entity type {} dropped", d.type());
        return Behaviors.same();
      }
      if (!leading) {
        // Sent here because Raft names this manager leader: it will be ready once its term's first
        // entry is applied. What waits longer than an ask would is dropped.
        long now = System.nanoTime();
        while (!waiting.isEmpty() && now - waiting.peek().getKey() > WAIT_FOR_READY_NANOS) {
          waiting.poll();
        }
        if (waiting.size() < MAX_WAITING) {
          waiting.add(Map.entry(now, d));
        }
        return Behaviors.same();
      }
      String key = d.type() + "|" + d.id();
      ActorRef<Object> entity = entities.computeIfAbsent(key, k -> {
        ActorRef<Object> spawned = (ActorRef<Object>) ctx.spawn(kind.apply(d.id()), d.type() + "-" + d.id() + "-" + (++made));
        ctx.watchWith(spawned, new Stopped(k));
        return spawned;
      });
      entity.tell(d.command());
      return Behaviors.same();
    }
  }
}
