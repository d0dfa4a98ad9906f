package dev.swarmd.view;

import dev.swarmd.persistence.Journal;
import dev.swarmd.store.Stamp;
import dev.swarmd.store.VersionClock;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the view snapshot near the journal's end: folds the journal, live, into a view of its own
 * (never the served one, which entities update as they write, not in journal order) and writes a
 * snapshot every {@link #EVERY} events.
 */
public final class ViewSnapshotter {
  private static final Logger LOG = LoggerFactory.getLogger(ViewSnapshotter.class);
  public static final int EVERY = 10_000;

  private final ActorSystem<?> system;
  private final Path dir;
  private final SwarmView fold = new SwarmView();
  private final VersionClock clock = new VersionClock();
  private long offset;
  private int unsaved;

  private ViewSnapshotter(ActorSystem<?> system, Path dir, ViewSnapshot from) {
    this.system = system;
    this.dir = dir;
    from.restore(fold);
    clock.restore(from.index(), from.headIndex(), from.head());
    offset = from.offset();
  }

  /** Follows the journal after from (the journal as the manager's start-up replay left it) until the system stops. */
  public static void start(ActorSystem<?> system, Path dir, ViewSnapshot from) {
    ViewSnapshotter s = new ViewSnapshotter(system, dir, from);
    Journal.events(system, true, from.offset()).runForeach(e -> {
      Stamp stamp = s.fold.replay(e.persistenceId(), e.event());
      if (stamp != null) {
        s.clock.observe(stamp);
      }
      s.offset = Journal.offset(e);
      if (++s.unsaved >= EVERY) {
        s.save();
      }
    }, system);
  }

  /** Writes the snapshot, now: the start-up replay just read many events, or the follower has. */
  public static void save(ActorSystem<?> system, Path dir, ViewSnapshot snapshot) {
    try {
      snapshot.write(system, dir);
    } catch (IOException e) {
      LOG.warn("view snapshot not written ({}); the next start replays more of the journal", e.toString());
    }
  }

  private void save() {
    unsaved = 0;
    save(system, dir, ViewSnapshot.of(offset, clock.current(), clock.headIndex(), clock.head(), fold));
  }
}
