package dev.swarmd.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Real processes of this machine: a sleep watched, killed, told once; gone or unknown processes not watched. */
class ProcessWatchTest {
  @Test
  void aWatchedProcessThatEndsIsToldOnce() throws Exception {
    List<String> gone = new CopyOnWriteArrayList<>();
    Process sleep = new ProcessBuilder("sleep", "60").start();
    try (ProcessWatch watch = new ProcessWatch(Path.of("/proc"), gone::add)) {
      assertNotNull(watch.startTime((int) sleep.pid()));
      assertTrue(watch.watch("t1", (int) sleep.pid()));
      Thread.sleep(3 * ProcessWatch.PERIOD.toMillis());
      assertEquals(List.of(), gone);

      sleep.destroyForcibly();
      // Not reaped until waited for: a zombie counts as gone.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (gone.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      sleep.waitFor();
      Thread.sleep(3 * ProcessWatch.PERIOD.toMillis());
      assertEquals(List.of("t1"), gone);
    }
  }

  @Test
  void aTaskNoLongerRunningIsNotWatched() throws Exception {
    List<String> gone = new CopyOnWriteArrayList<>();
    Process sleep = new ProcessBuilder("sleep", "60").start();
    try (ProcessWatch watch = new ProcessWatch(Path.of("/proc"), gone::add)) {
      assertTrue(watch.watch("t1", (int) sleep.pid()));
      watch.retain(Set.of("t2"));
      sleep.destroyForcibly();
      sleep.waitFor();
      Thread.sleep(3 * ProcessWatch.PERIOD.toMillis());
      assertEquals(List.of(), gone);
    }
  }

  @Test
  void aProcessThatIsNotThereIsNotWatched() {
    try (ProcessWatch watch = new ProcessWatch(Path.of("/proc"), t -> {})) {
      assertFalse(watch.watch("t1", 0));
      assertFalse(watch.watch("t1", Integer.MAX_VALUE));
    }
  }
}
