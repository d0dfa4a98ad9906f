package dev.swarmd.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Watches the main process of each running task's container in /proc and says at once when one is gone: the
 * engine reports a container's death only after containerd and dockerd have handled it, which under load
 * takes a second or two, and all that time the mesh would send new connections to a dead address.
 */
final class ProcessWatch implements AutoCloseable {
  static final Duration PERIOD = Duration.ofMillis(50);

  /** A process as /proc tells it apart from a later one with the same number: its start time. */
  private record Process(String taskId, int pid, String startTime) {}

  private final Path proc;
  private final Consumer<String> gone;
  private final Map<String, Process> watched = new ConcurrentHashMap<>();
  /** Tasks whose process was looked up (watched or not), so that each is looked up once. */
  private final Set<String> claimed = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "process-watch");
    t.setDaemon(true);
    return t;
  });

  /** gone: called (on the watch's thread) with the task whose process ended, once. */
  ProcessWatch(Path proc, Consumer<String> gone) {
    this.proc = proc;
    this.gone = gone;
    timer.scheduleWithFixedDelay(this::poll, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** True the first time for a task (until {@link #retain} forgets it): whoever gets it looks its process up. */
  boolean claim(String taskId) {
    return claimed.add(taskId);
  }

  /**
   * Watches the task's process; false (and no watch) when /proc does not show it alive, as when this daemon
   * runs in another PID namespace than the engine's.
   */
  boolean watch(String taskId, int pid) {
    claimed.add(taskId);
    String start = startTime(pid);
    if (pid <= 0 || start == null) {
      return false;
    }
    watched.put(taskId, new Process(taskId, pid, start));
    return true;
  }

  /** Stops watching the tasks that are not in running. */
  void retain(Set<String> running) {
    watched.keySet().retainAll(running);
    claimed.retainAll(running);
  }

  private void poll() {
    for (Process p : watched.values()) {
      if (!p.startTime().equals(startTime(p.pid())) && watched.remove(p.taskId(), p)) {
        gone.accept(p.taskId());
      }
    }
  }

  /**
   * Field 22 of /proc/PID/stat, or null when the process is gone or a zombie (dead, not yet reaped). The
   * command name (field 2) is in parentheses and may hold spaces: fields are counted after its last ')'.
   */
  String startTime(int pid) {
    String stat;
    try {
      stat = Files.readString(proc.resolve(Integer.toString(pid)).resolve("stat"));
    } catch (IOException e) {
      return null;
    }
    int close = stat.lastIndexOf(')');
    if (close < 0) {
      return null;
    }
    String[] fields = stat.substring(close + 2).trim().split(" ");
    // fields[0] is field 3 (the state), so field 22 is fields[19]
    if (fields.length < 20 || fields[0].equals("Z") || fields[0].equals("X")) {
      return null;
    }
    return fields[19];
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
