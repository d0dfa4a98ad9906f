package dev.swarmd.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.persistence.query.journal.leveldb.javadsl.LeveldbReadJournal;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/** The journal of a data root: where it lives, and reading it back in write order. */
public final class Journal {
  /** Every event carries this tag, so that one query returns the whole history in write order. */
  public static final String ALL = "swarm";

  private Journal() {}

  /** Journal and snapshot directories under the data root, over the plugin defaults. */
  public static Config config(Path dataRoot) {
    return ConfigFactory.parseResources("swarmd-persistence.conf")
        .withValue("pekko.persistence.journal.leveldb.dir",
            ConfigValueFactory.fromAnyRef(dataRoot.resolve("journal").toString()))
        .withValue("pekko.persistence.snapshot-store.local.dir",
            ConfigValueFactory.fromAnyRef(dataRoot.resolve("snapshots").toString()));
  }

  /** All events written so far, oldest first. */
  public static CompletionStage<List<EventEnvelope>> history(ActorSystem<?> system) {
    return events(system, false).runWith(Sink.seq(), system);
  }

  /**
   * Every event in write order: those written so far, then (live) each new one as it is written,
   * until the stream is cancelled.
   */
  public static Source<EventEnvelope, NotUsed> events(ActorSystem<?> system, boolean live) {
    return events(system, live, 0);
  }

  /** As {@link #events(ActorSystem, boolean)}, from the event after the given offset (0: the first). */
  @SuppressWarnings("deprecation") // LevelDB's read journal is deprecated upstream but is the one the embedded journal has.
  public static Source<EventEnvelope, NotUsed> events(ActorSystem<?> system, boolean live, long after) {
    LeveldbReadJournal journal =
        PersistenceQuery.get(system).getReadJournalFor(LeveldbReadJournal.class, LeveldbReadJournal.Identifier());
    Offset from = after == 0 ? Offset.noOffset() : Offset.sequence(after);
    return live ? journal.eventsByTag(ALL, from) : journal.currentEventsByTag(ALL, from);
  }

  /** An event's place in the whole history (its tag sequence number). */
  public static long offset(EventEnvelope e) {
    return e.offset() instanceof Sequence s ? s.value() : 0;
  }
}
