package dev.swarmd.daemon;

import dev.swarmd.persistence.JournalScan;
import dev.swarmd.store.ChainCheck;
import dev.swarmd.store.Sealable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Checks the journal's hash chain: says where the first altered, missing or reordered event is. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Checks the hash chain of a data root's journal, running or stopped; exits 1 at the first event "
        + "that was altered, removed or reordered.")
final class Verify implements Callable<Integer> {
  @Option(names = "--data-root", paramLabel = "DIR", description = "The node's data root (default: ${DEFAULT-VALUE}).")
  Path dataRoot = Path.of("/var/lib/swarmd");

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    List<ChainCheck.Read> journal = new ArrayList<>();
    JournalScan.Storage storage;
    try {
      storage = Audit.withJournal(this, dataRoot, (system, dir) -> JournalScan.check(system, dir, e -> {
        if (e.event() instanceof Sealable<?> s) {
          journal.add(new ChainCheck.Read(e.persistenceId(), e.sequenceNr(), s));
        }
      }));
    } catch (IOException e) {
      System.out.printf("journal broken: %s%n", e.getMessage());
      return 1;
    }
    // The chain names the first event altered or missing; LevelDB's checksums may have caught damage first.
    ChainCheck.Result r = ChainCheck.check(journal);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (!r.intact()) {
      ChainCheck.Read b = r.broken();
      System.out.printf("journal broken at index %d (%s, sequence number %d, %s): %s%n", b.event().stamp().index(),
          b.persistenceId(), b.sequenceNr(), b.event().getClass().getSimpleName(), r.reason());
      System.out.printf("the %d events before it check out, up to index %d%n", r.events(), r.headIndex());
      return 1;
    }
    if (storage.copyDiffers() != null) {
      JournalScan.Event e = storage.copyDiffers();
      String at = e.event() instanceof Sealable<?> s ? "index " + s.stamp().index() : "history offset " + e.offset();
      System.out.printf("journal broken at %s (%s, sequence number %d): the copy its entity recovers from is not "
          + "the one in the history%n", at, e.persistenceId(), e.sequenceNr());
      return 1;
    }
    if (storage.damage() != null) {
      System.out.printf("journal broken after index %d: its storage is damaged (%s); the %d events up to there "
          + "check out%n", r.headIndex(), storage.damage(), r.events());
      return 1;
    }
    if (storage.read() != storage.written()) {
      System.out.printf("journal broken after index %d: the journal wrote %d events to its history, %d are there%n",
          r.headIndex(), storage.written(), storage.read());
      return 1;
    }
    if (storage.entityEvents() != storage.read()) {
      System.out.printf("journal broken: the entities hold %d events, the history %d%n", storage.entityEvents(),
          storage.read());
      return 1;
    }
    System.out.printf("journal intact: %d events checked (%d from before the chain), head index %d, head link %s "
        + "(%d ms)%n", r.events(), r.unsealed(), r.headIndex(), r.headLink(), ms);
    return 0;
  }
}
