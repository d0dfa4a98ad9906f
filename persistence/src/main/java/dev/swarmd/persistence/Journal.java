package dev.swarmd.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.journal.leveldb.javadsl.LeveldbReadJournal;
import org.apache.pekko.stream.javadsl.Sink;

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
  @SuppressWarnings("deprecation") // LevelDB's read journal is deprecated upstream but is the one the embedded journal has.
  public static CompletionStage<List<EventEnvelope>> history(ActorSystem<?> system) {
    LeveldbReadJournal journal =
        PersistenceQuery.get(system).getReadJournalFor(LeveldbReadJournal.class, LeveldbReadJournal.Identifier());
    return journal.currentEventsByTag(ALL, Offset.noOffset()).runWith(Sink.seq(), system);
  }
}
