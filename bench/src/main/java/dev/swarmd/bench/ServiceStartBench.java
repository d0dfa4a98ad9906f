package dev.swarmd.bench;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Issue 2 benchmark, one part per invocation (bench/run.sh drives all three).
 *
 * <pre>
 * service: time from `docker service create -d --no-resolve-image --replicas R --name b IMAGE sleep
 *          3600` (the real CLI, against --swarm-host) until R containers of service b run on the
 *          engine, then from `docker service scale -d b=0` until none of them is left on the engine.
 * floor:   R containers created and started straight through docker-java until all run, then all
 *          force-removed until none is left: what any orchestrator on this engine must pay.
 * </pre>
 *
 * --no-resolve-image: the CLI would otherwise ask the registry for the image's digest first, which
 * with no registry reachable is a failed look-up inside the timed window.
 *
 * Containers are counted on the engine (--engine) by label, every 50 ms. Every wait is bounded by
 * --timeout. Each run prints one stdout line as it ends: {@code RUN <part> <create s> <remove s>},
 * and for the service part also when the create was called and when the CLI returned, in epoch
 * milliseconds (StartProfile's origin). Exit code 1 on any failure or timeout.
 */
public final class ServiceStartBench {
  private static final String SERVICE_LABEL = "com.docker.swarm.service.name";
  private static final String FLOOR_LABEL = "dev.swarmd.bench";
  private static final long POLL_MS = 50;

  private String part;
  private String engine = "unix:///var/run/docker.sock";
  private String swarmHost = "unix:///var/run/docker.sock";
  private String dockerCli = "docker";
  private String image = "swarmd-test/busybox";
  private String service = "b";
  private int runs = 5;
  private int replicas = 50;
  private int parallel = 4;
  private long timeoutMs = 120_000;

  private DockerClient docker;

  public static void main(String[] args) {
    ServiceStartBench bench = new ServiceStartBench();
    try {
      bench.parse(args);
      bench.run();
    } catch (IllegalArgumentException e) {
      System.err.println("usage: ServiceStartBench service|floor [--engine URI] [--swarm-host URI]"
          + " [--docker PATH] [--image IMG] [--service NAME] [--runs N] [--replicas R]"
          + " [--parallel P] [--timeout SECONDS]\n" + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      System.err.println("bench " + bench.part + " FAILED: " + e.getMessage());
      System.exit(1);
    }
    System.exit(0);
  }

  private void parse(String[] args) {
    if (args.length == 0 || !(args[0].equals("service") || args[0].equals("floor"))) {
      throw new IllegalArgumentException("first argument must be 'service' or 'floor'");
    }
    part = args[0];
    for (int i = 1; i < args.length; i += 2) {
      if (i + 1 >= args.length) throw new IllegalArgumentException("missing value for " + args[i]);
      String v = args[i + 1];
      switch (args[i]) {
        case "--engine" -> engine = v;
        case "--swarm-host" -> swarmHost = v;
        case "--docker" -> dockerCli = v;
        case "--image" -> image = v;
        case "--service" -> service = v;
        case "--runs" -> runs = Integer.parseInt(v);
        case "--replicas" -> replicas = Integer.parseInt(v);
        case "--parallel" -> parallel = Integer.parseInt(v);
        case "--timeout" -> timeoutMs = Long.parseLong(v) * 1000;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
  }

  private void run() throws Exception {
    DockerClientConfig cfg =
        DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(engine).build();
    ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder()
        .dockerHost(cfg.getDockerHost())
        .sslConfig(cfg.getSSLConfig())
        .maxConnections(Math.max(16, parallel * 2))
        .connectionTimeout(Duration.ofSeconds(10))
        .responseTimeout(Duration.ofSeconds(60))
        .build();
    docker = DockerClientImpl.getInstance(cfg, http);
    try {
      for (int r = 0; r < runs; r++) {
        System.out.println("RUN " + part + " " + (part.equals("service") ? serviceRun() : floorRun()));
        System.out.flush();
      }
    } finally {
      cleanUp();
      docker.close();
    }
  }

  /**
   * One create/scale-to-0/rm cycle through the docker CLI: "create s, scale-to-0 s, create called
   * (epoch ms), create returned (epoch ms)".
   */
  private String serviceRun() throws Exception {
    Map<String, String> label = Map.of(SERVICE_LABEL, service);
    awaitCount(label, 0, false, "leftover containers of service " + service + " to go");
    long called = System.currentTimeMillis();
    long t0 = System.nanoTime();
    cli("service", "create", "-d", "--no-resolve-image", "--replicas", Integer.toString(replicas),
        "--name", service, image, "sleep", "3600");
    long returned = called + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    awaitCount(label, replicas, true, replicas + " running containers of service " + service);
    double up = seconds(t0);
    long t1 = System.nanoTime();
    cli("service", "scale", "-d", service + "=0");
    awaitCount(label, 0, false, "containers of service " + service + " to go after scale 0");
    double down = seconds(t1);
    cli("service", "rm", service);
    return String.format(Locale.ROOT, "%.3f %.3f %d %d", up, down, called, returned);
  }

  /** R plain containers through docker-java: "all running s, all removed s". */
  private String floorRun() throws Exception {
    Map<String, String> label = Map.of(FLOOR_LABEL, "floor");
    awaitCount(label, 0, false, "leftover floor containers to go");
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      long t0 = System.nanoTime();
      List<Future<String>> created = new ArrayList<>();
      for (int i = 0; i < replicas; i++) {
        created.add(pool.submit(() -> {
          String id = docker.createContainerCmd(image).withCmd("sleep", "3600")
              .withLabels(label).exec().getId();
          docker.startContainerCmd(id).exec();
          return id;
        }));
      }
      List<String> ids = new ArrayList<>();
      for (Future<String> f : created) ids.add(f.get(timeoutMs, TimeUnit.MILLISECONDS));
      awaitCount(label, replicas, true, replicas + " running floor containers");
      double up = seconds(t0);
      long t1 = System.nanoTime();
      List<Future<?>> removed = new ArrayList<>();
      for (String id : ids) {
        removed.add(pool.submit(() -> docker.removeContainerCmd(id).withForce(true).exec()));
      }
      for (Future<?> f : removed) f.get(timeoutMs, TimeUnit.MILLISECONDS);
      awaitCount(label, 0, false, "floor containers to go");
      return String.format(Locale.ROOT, "%.3f %.3f", up, seconds(t1));
    } finally {
      pool.shutdownNow();
    }
  }

  /** Polls the engine until exactly {@code want} containers with the label exist (or run). */
  private void awaitCount(Map<String, String> label, int want, boolean running, String what)
      throws InterruptedException {
    awaitCount(label, want, running, what, timeoutMs);
  }

  private void awaitCount(Map<String, String> label, int want, boolean running, String what,
      long limitMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(limitMs);
    int n = -1;
    while (System.nanoTime() < deadline) {
      List<Container> cs = docker.listContainersCmd().withShowAll(true).withLabelFilter(label).exec();
      n = running ? (int) cs.stream().filter(c -> "running".equals(c.getState())).count() : cs.size();
      if (n == want) return;
      Thread.sleep(POLL_MS);
    }
    throw new IllegalStateException("timed out after " + limitMs / 1000 + " s waiting for " + what
        + " (last count " + n + ")");
  }

  /** Runs the docker CLI against the swarm host, bounded by the timeout; fails on non-zero exit. */
  private void cli(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(dockerCli, "-H", swarmHost));
    cmd.addAll(Arrays.asList(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("timed out: " + String.join(" ", cmd));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " exited " + p.exitValue() + ": " + out);
    }
  }

  /** Best effort: nothing this part made may outlive it, even after a failure. */
  private void cleanUp() {
    try {
      if (part.equals("service")) {
        try {
          cli("service", "rm", service);
        } catch (Exception ignored) {
          // not there (the normal case) or the swarm is gone: the engine sweep below still runs
        }
        // 30 s covers the 10 s stop grace period; run.sh sweeps whatever is still left.
        awaitCount(Map.of(SERVICE_LABEL, service), 0, false, "service containers to go", 30_000);
      } else {
        for (Container c : docker.listContainersCmd().withShowAll(true)
            .withLabelFilter(Map.of(FLOOR_LABEL, "floor")).exec()) {
          docker.removeContainerCmd(c.getId()).withForce(true).exec();
        }
      }
    } catch (Exception e) {
      System.err.println("cleanup incomplete: " + e.getMessage());
    }
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }
}
