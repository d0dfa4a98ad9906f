package dev.swarmd.swarm;

import dev.swarmd.endpoint.AddressPool;
import dev.swarmd.persistence.Journal;
import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.protocol.Cause;
import dev.swarmd.protocol.Failure;
import dev.swarmd.store.Sealable;
import dev.swarmd.store.Stamp;
import dev.swarmd.store.VersionClock;
import java.time.Instant;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/** The swarm itself: its ID, settings, root CA certificate and join tokens. One per swarm. */
public final class SwarmEntity extends EventSourcedBehavior<SwarmEntity.Command, SwarmEntity.Event, SwarmEntity.State> {

  public static final EntityTypeKey<Command> KEY = EntityTypeKey.create(Command.class, "Swarm");
  public static final String ID = "default";

  /** Swarm's settings with Docker's defaults; durations in nanoseconds. */
  public record Settings(
      String name, long taskHistoryRetentionLimit, long heartbeatPeriod, long nodeCertExpiry, long snapshotInterval,
      int dataPathPort)
      implements CborSerializable {
    public static Settings defaults() {
      return new Settings("default", 5, 5_000_000_000L, 7_776_000_000_000_000L, 10_000, 4789);
    }
  }

  public sealed interface Command extends CborSerializable {}

  public record Init(String clusterId, Settings settings, AddressPool addressPool, String caCertPem,
      String workerToken, String managerToken, Cause cause, ActorRef<Reply> replyTo) implements Command {}

  /**
   * `docker swarm update` and `docker swarm join-token --rotate`: new settings, and new tokens
   * where given (null keeps the current one). A rotated token stops working for new joins at once.
   */
  public record Update(Settings settings, String workerToken, String managerToken, long expectedVersion,
      Cause cause, ActorRef<Reply> replyTo) implements Command {}

  public record Get(ActorRef<Reply> replyTo) implements Command {}

  public record Reply(State state, Failure failure) implements CborSerializable {}

  public sealed interface Event extends CborSerializable, Sealable<Event> {}

  /** addressPool: null in the journals of swarms initialized before pools ({@link AddressPool#LEGACY}). */
  public record Initialized(String clusterId, Settings settings, AddressPool addressPool, String caCertPem,
      String workerToken, String managerToken, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Initialized(clusterId, settings, addressPool, caCertPem, workerToken, managerToken, s);
    }
  }

  public record Updated(Settings settings, String workerToken, String managerToken, Stamp stamp) implements Event {
    @Override
    public Event withStamp(Stamp s) {
      return new Updated(settings, workerToken, managerToken, s);
    }
  }

  public record State(String clusterId, Settings settings, AddressPool addressPool, String caCertPem,
      String workerToken, String managerToken, long version, Instant createdAt, Instant updatedAt)
      implements CborSerializable {
    public State {
      // Journals and view snapshots from before pools carry none.
      if (clusterId != null && addressPool == null) {
        addressPool = AddressPool.LEGACY;
      }
    }

    public static State empty() {
      return new State(null, null, null, null, null, null, 0, null, null);
    }

    public boolean exists() {
      return clusterId != null;
    }

    public State apply(Event event) {
      if (event instanceof Updated u) {
        return new State(clusterId, u.settings(), addressPool, caCertPem, u.workerToken(), u.managerToken(),
            u.stamp().index(), createdAt, u.stamp().at());
      }
      Initialized i = (Initialized) event;
      return new State(i.clusterId(), i.settings(), i.addressPool(),
          i.caCertPem(), i.workerToken(), i.managerToken(), i.stamp().index(), i.stamp().at(), i.stamp().at());
    }
  }

  private final VersionClock clock;

  public static Behavior<Command> create(VersionClock clock) {
    return new SwarmEntity(clock);
  }

  private SwarmEntity(VersionClock clock) {
    super(PersistenceId.of(KEY.name(), ID));
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Init.class, this::onInit)
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), new Reply(s, null)))
        .build();
  }

  private Effect<Event, State> onInit(State s, Init c) {
    if (s.exists()) {
      // Init is repeated after a crash between writing the node's state and the swarm's: keep the first.
      return Effect().reply(c.replyTo(), new Reply(s, null));
    }
    Initialized e = new Initialized(c.clusterId(), c.settings(), c.addressPool(), c.caCertPem(), c.workerToken(), c.managerToken(),
        Stamp.of(c.cause()));
    return persist(e, c.replyTo());
  }

  private Effect<Event, State> persist(Event e, ActorRef<Reply> replyTo) {
    return Effect().persist(clock.seal(persistenceId().id(), e))
        .thenReply(replyTo, st -> new Reply(st, null));
  }

  private Effect<Event, State> onUpdate(State s, Update c) {
    if (!s.exists()) {
      return Effect().reply(c.replyTo(), new Reply(null, Failure.of(Failure.Kind.NOT_FOUND, "swarm not found")));
    }
    if (c.expectedVersion() != s.version()) {
      return Effect().reply(c.replyTo(),
          new Reply(null, Failure.of(Failure.Kind.OUT_OF_SEQUENCE, "update out of sequence")));
    }
    Updated e = new Updated(c.settings(), c.workerToken() == null ? s.workerToken() : c.workerToken(),
        c.managerToken() == null ? s.managerToken() : c.managerToken(), Stamp.of(c.cause()));
    return persist(e, c.replyTo());
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(Journal.ALL);
  }
}
