package dev.swarmd.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Leader failover, one run (bench/leader-failover.sh drives the runs): kills the Raft leader's JVM
 * with SIGKILL, then retries a versioned service update through a surviving manager until one is
 * acknowledged (HTTP 200), and prints the time from the kill to that acknowledgement.
 *
 * <pre>
 * FailoverBench --api tcp://ADDR:2375 --service NAME --kill PID [--timeout SECONDS] [--pause-ms MS]
 * </pre>
 *
 * The kill is sent from here, not by the script, so that the clock starts at the kill itself and not
 * at a JVM start; and one update is acknowledged through the same manager before it, so the client's
 * classes are loaded and its connection is open when the clock runs. Each attempt is what the CLI
 * does for `docker service update --label-add`: GET the service (its version and spec), then POST
 * the update at that version. A failed attempt (no leader yet: 503; the version moved because an
 * earlier attempt was applied after all; no answer) is retried after --pause-ms, from the GET.
 *
 * Prints {@code RUN <ms from kill to ack> <attempts> <ms until the JVM was gone>} on stdout, the
 * failed attempts' answers (counted) on stderr. Exit 1 if nothing is acknowledged within --timeout.
 */
public final class FailoverBench {
  private static final String LABEL = "dev.swarmd.bench.failover";

  private String api;
  private String service;
  private long pid = -1;
  private long timeoutMs = 120_000;
  private long pauseMs = 50;

  public static void main(String[] args) {
    FailoverBench bench = new FailoverBench();
    try {
      bench.parse(args);
      System.exit(bench.run());
    } catch (IllegalArgumentException e) {
      System.err.println("usage: FailoverBench --api URI --service NAME --kill PID [--timeout SECONDS]"
          + " [--pause-ms MS]\n" + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      System.err.println("FailoverBench FAILED: " + e);
      System.exit(1);
    }
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) throw new IllegalArgumentException("missing value for " + args[i]);
      String v = args[i + 1];
      switch (args[i]) {
        case "--api" -> api = v;
        case "--service" -> service = v;
        case "--kill" -> pid = Long.parseLong(v);
        case "--timeout" -> timeoutMs = Long.parseLong(v) * 1000;
        case "--pause-ms" -> pauseMs = Long.parseLong(v);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (api == null || service == null || pid <= 0) {
      throw new IllegalArgumentException("--api, --service and --kill are required");
    }
  }

  private int run() throws Exception {
    ProcessHandle victim = ProcessHandle.of(pid)
        .orElseThrow(() -> new IllegalStateException("no process " + pid + " to kill"));
    // A response timeout above the server's own (15 s for a command to the leader): the server is
    // left to answer, and an attempt that hangs longer still ends and is retried.
    try (DockerApi client = new DockerApi(api, Duration.ofSeconds(30))) {
      // Before the kill the swarm is settled: this one is expected to pass at once.
      Map<String, Integer> failures = new LinkedHashMap<>();
      if (untilAcknowledged(client, System.nanoTime() + TimeUnit.SECONDS.toNanos(30), failures) == 0) {
        throw new IllegalStateException("no update acknowledged before the kill: " + DockerApi.tally(failures));
      }

      long t0 = System.nanoTime();
      if (!victim.destroyForcibly()) {
        throw new IllegalStateException("could not send SIGKILL to " + pid);
      }
      awaitGone(pid, t0 + TimeUnit.SECONDS.toNanos(10));
      long goneMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

      failures.clear();
      int attempts = untilAcknowledged(client, t0 + TimeUnit.MILLISECONDS.toNanos(timeoutMs), failures);
      long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
      if (attempts == 0) {
        System.err.println("no update acknowledged within " + timeoutMs / 1000 + " s after the kill; refused: "
            + DockerApi.tally(failures));
        return 1;
      }
      if (!failures.isEmpty()) {
        System.err.println("refused before: " + DockerApi.tally(failures));
      }
      System.out.println("RUN " + ms + " " + attempts + " " + goneMs);
      return 0;
    }
  }

  /**
   * Tries updates until one is acknowledged: the attempts it took, 0 if none was by the deadline.
   * Each refusal's answer is counted in failures.
   */
  private int untilAcknowledged(DockerApi client, long deadlineNanos, Map<String, Integer> failures)
      throws InterruptedException {
    for (int attempt = 1; System.nanoTime() < deadlineNanos; attempt++) {
      DockerApi.Response r = client.updateOnce(service, LABEL, Long.toString(System.nanoTime()));
      if (r.ok()) {
        return attempt;
      }
      failures.merge(r.summary(), 1, Integer::sum);
      Thread.sleep(pauseMs);
    }
    return 0;
  }

  /**
   * Waits until the process has exited: gone from /proc, or a zombie (dead, its sockets closed, only
   * not yet reaped by its parent).
   */
  private static void awaitGone(long pid, long deadlineNanos) throws InterruptedException {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    while (System.nanoTime() < deadlineNanos) {
      try {
        String s = Files.readString(stat);
        // The state is the field after the command name, which is in parentheses and may hold spaces.
        char state = s.charAt(s.lastIndexOf(')') + 2);
        if (state == 'Z' || state == 'X') {
          return;
        }
      } catch (IOException e) {
        return; // no such file: the process is gone (and reaped)
      }
      Thread.sleep(1);
    }
    throw new IllegalStateException("process " + pid + " still alive 10 s after SIGKILL");
  }
}
