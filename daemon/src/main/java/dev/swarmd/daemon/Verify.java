package dev.swarmd.daemon;

import dev.swarmd.persistence.Journal;
import dev.swarmd.store.ChainCheck;
import dev.swarmd.store.Sealable;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.pekko.stream.javadsl.Sink;
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
    List<ChainCheck.Read> journal = Audit.withJournal(this, dataRoot, system -> Journal.events(system, false)
        .filter(e -> e.event() instanceof Sealable<?>)
        .map(e -> new ChainCheck.Read(e.persistenceId(), e.sequenceNr(), (Sealable<?>) e.event()))
        .runWith(Sink.seq(), system));
    ChainCheck.Result r = ChainCheck.check(journal);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (r.intact()) {
      System.out.printf("journal intact: %d events checked (%d from before the chain), head index %d, head link %s "
          + "(%d ms)%n", r.events(), r.unsealed(), r.headIndex(), r.headLink(), ms);
      return 0;
    }
    ChainCheck.Read b = r.broken();
    System.out.printf("journal broken at index %d (%s, sequence number %d, %s): %s%n", b.event().stamp().index(),
        b.persistenceId(), b.sequenceNr(), b.event().getClass().getSimpleName(), r.reason());
    System.out.printf("the %d events before it check out, up to index %d%n", r.events(), r.headIndex());
    return 1;
  }
}
