package dev.swarmd.ingress;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One swarmd process at a time reads and changes what the nodes of a host share (the loopback guards,
 * route_localnet, the rules of nodes that are gone): each decides from what the others left, and two
 * nodes stopping together would each see the other's guard and leave route_localnet on.
 */
final class HostLock {
  private static final Logger LOG = LoggerFactory.getLogger(HostLock.class);
  private static final Path FILE = Path.of(Files.isDirectory(Path.of("/run/lock")) ? "/run/lock" : "/tmp",
      "swarmd-host.lock");

  private HostLock() {}

  /** Runs work holding the host's lock; without a lock file to take (no permission) it runs unlocked. */
  static synchronized <T> T with(Supplier<T> work) {
    try (FileChannel ch = FileChannel.open(FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = ch.lock()) {
      return work.get();
    } catch (IOException e) {
      LOG.warn("host: cannot take {} ({}); changing the host's shared rules unlocked", FILE, e.toString());
      return work.get();
    }
  }
}
