package dev.swarmd.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Acknowledged write rate, one run against one swarm (bench/write-rate.sh drives the targets and runs).
 *
 * <pre>
 * WriteRateBench --hosts URI[,URI...] [--clients 32] [--duration SECONDS] [--warmup SECONDS]
 *                [--image IMAGE] [--prefix NAME]
 * </pre>
 *
 * Creates one service per client through the first host, with 0 replicas: no task, so no container
 * competes with the managers for the CPU. Then every client updates its own service in a loop for
 * warm-up + duration seconds, as the CLI does: GET /services/{id} for Version.Index and Spec, then POST
 * /services/{id}/update?version=N with a changed label. One service per client, so the writes never
 * conflict: any refusal is a failure, not a lost race. Client i talks to host i mod the number of hosts.
 *
 * Docker's update answer carries no version, so the GET cannot be skipped; the POST alone is the write:
 * its latency is what is measured, and each POST answered 200 is one acknowledged write. A POST counts
 * if it started after the warm-up and ended within the window; writes/s is their number over the
 * window's length. Prints {@code RUN <writes/s> <p50 ms> <p99 ms> <acknowledged> <failed>} on stdout
 * and the failed POSTs' answers (counted) on stderr; the services are removed at the end. Exit 1 if
 * nothing was acknowledged.
 */
public final class WriteRateBench {
  private static final String LABEL = "dev.swarmd.bench.write";
  /** After a refusal: a swarm that refuses everything is not hammered in a tight loop. */
  private static final long PAUSE_MS = 10;

  private final List<String> hosts = new ArrayList<>();
  private int clients = 32;
  private long durationMs = 30_000;
  private long warmupMs = 5_000;
  private String image = "alpine:latest";
  private String prefix = "wr";

  /** One client's figures over the window: POST latencies (ns, first count of them), refusals. */
  private record ClientResult(long[] latencies, int count, int failed, Map<String, Integer> failures) {}

  public static void main(String[] args) {
    WriteRateBench bench = new WriteRateBench();
    try {
      bench.parse(args);
      System.exit(bench.run());
    } catch (IllegalArgumentException e) {
      System.err.println("usage: WriteRateBench --hosts URI[,URI...] [--clients N] [--duration SECONDS]"
          + " [--warmup SECONDS] [--image IMAGE] [--prefix NAME]\n" + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      System.err.println("WriteRateBench FAILED: " + e);
      System.exit(1);
    }
  }

  private void parse(String[] args) {
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) throw new IllegalArgumentException("missing value for " + args[i]);
      String v = args[i + 1];
      switch (args[i]) {
        case "--hosts" -> hosts.addAll(Arrays.asList(v.split(",")));
        case "--clients" -> clients = Integer.parseInt(v);
        case "--duration" -> durationMs = Long.parseLong(v) * 1000;
        case "--warmup" -> warmupMs = Long.parseLong(v) * 1000;
        case "--image" -> image = v;
        case "--prefix" -> prefix = v;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (hosts.isEmpty() || clients < 1 || durationMs <= 0) {
      throw new IllegalArgumentException("--hosts is required; --clients and --duration must be positive");
    }
  }

  private int run() throws Exception {
    // The services are made and removed through the first host; each client has a connection of its own.
    DockerApi admin = new DockerApi(hosts.get(0), Duration.ofSeconds(60));
    List<DockerApi> apis = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      for (int i = 0; i < clients; i++) {
        ids.add(admin.createService(prefix + "-" + i, image, 0, List.of("sleep", "3600")));
        apis.add(new DockerApi(hosts.get(i % hosts.size()), Duration.ofSeconds(60)));
      }
      long start = System.nanoTime();
      long from = start + TimeUnit.MILLISECONDS.toNanos(warmupMs);
      long end = from + TimeUnit.MILLISECONDS.toNanos(durationMs);
      List<Future<ClientResult>> running = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        DockerApi api = apis.get(i);
        String id = ids.get(i);
        running.add(pool.submit(() -> client(api, id, from, end)));
      }
      List<ClientResult> results = new ArrayList<>();
      for (Future<ClientResult> f : running) {
        // A POST may still be in flight at the end: it has its timeout (60 s) to end.
        results.add(f.get(TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()) + 90_000, TimeUnit.MILLISECONDS));
      }
      return report(results);
    } finally {
      pool.shutdownNow();
      apis.forEach(DockerApi::close);
      // Best effort: the script takes the whole swarm down after the run anyway.
      for (String id : ids) {
        admin.removeService(id);
      }
      admin.close();
    }
  }

  /** One client: GET + POST on its own service until the end of the window. */
  private static ClientResult client(DockerApi api, String id, long from, long end)
      throws InterruptedException {
    long[] lat = new long[4096];
    int n = 0;
    int failed = 0;
    Map<String, Integer> failures = new LinkedHashMap<>();
    for (long i = 0; System.nanoTime() < end; i++) {
      DockerApi.ServiceState s;
      try {
        s = api.inspect(id);
      } catch (DockerApi.ApiError e) {
        // A read that fails is no write: counted among the failures, not timed.
        if (System.nanoTime() >= from) {
          failed++;
          failures.merge("GET " + e.getMessage(), 1, Integer::sum);
        }
        Thread.sleep(PAUSE_MS);
        continue;
      }
      long t0 = System.nanoTime();
      DockerApi.Response r = api.updateLabel(id, s, LABEL, Long.toString(i));
      long t1 = System.nanoTime();
      boolean inWindow = t0 >= from && t1 <= end;
      if (r.ok()) {
        if (inWindow) {
          if (n == lat.length) {
            lat = Arrays.copyOf(lat, n * 2);
          }
          lat[n++] = t1 - t0;
        }
      } else {
        if (inWindow) {
          failed++;
          failures.merge("POST " + r.summary(), 1, Integer::sum);
        }
        Thread.sleep(PAUSE_MS);
      }
    }
    return new ClientResult(lat, n, failed, failures);
  }

  private int report(List<ClientResult> results) {
    int total = results.stream().mapToInt(ClientResult::count).sum();
    int failed = results.stream().mapToInt(ClientResult::failed).sum();
    long[] all = new long[total];
    int k = 0;
    Map<String, Integer> failures = new LinkedHashMap<>();
    for (ClientResult r : results) {
      System.arraycopy(r.latencies(), 0, all, k, r.count());
      k += r.count();
      r.failures().forEach((m, c) -> failures.merge(m, c, Integer::sum));
    }
    if (!failures.isEmpty()) {
      System.err.println("failed: " + DockerApi.tally(failures));
    }
    if (total == 0) {
      System.err.println("no write acknowledged in the window");
      return 1;
    }
    Arrays.sort(all);
    System.out.println(String.format(Locale.ROOT, "RUN %.1f %.2f %.2f %d %d",
        total / (durationMs / 1000.0), percentile(all, 0.50) / 1e6, percentile(all, 0.99) / 1e6, total, failed));
    return 0;
  }

  /** Nearest rank: the smallest value that at least p of the sorted values are at or below. */
  private static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }
}
