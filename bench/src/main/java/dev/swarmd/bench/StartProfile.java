package dev.swarmd.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where one swarmd service start (bench/run.sh with BENCH_PROFILE=1) spent its time, per task and in
 * all, from records that already exist rather than new logging:
 *
 * <pre>
 * --audit FILE   `swarmd audit --json` of the run's data root: the manager stamps each event when it
 *                makes it (the service's create; each task's create, assignment by the scheduler and
 *                each state its agent reported)
 * --events FILE  `docker events --format '{{json .}}'` of the engine: each task container's create
 *                and start, in the engine's own time
 * --called MS, --returned MS   when the CLI's `service create` was called and returned (epoch ms)
 * </pre>
 *
 * A task's milestones, in causal order: created, assigned, first report from its agent (accepted),
 * container created and started (the engine), running (as the manager recorded it). Prints a
 * markdown table: per phase, the median and range per task and the wall-clock span from the first
 * task entering it to the last leaving it, after the create call. Everything runs on one machine,
 * so the manager's and the engine's clocks are one.
 */
public final class StartProfile {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TASK_ID = "com.docker.swarm.task.id";
  private static final String SERVICE_NAME = "com.docker.swarm.service.name";
  /** The states an agent reports before its task runs; the first seen is when the agent had it. */
  private static final Set<String> AGENT_STATES = Set.of("accepted", "preparing", "ready", "starting");

  private record Phase(String name, String from, String to) {}

  private static final List<Phase> PHASES = List.of(
      new Phase("orchestrator: service created → task created", "service", "created"),
      new Phase("scheduler: task created → assigned to the node", "created", "assigned"),
      new Phase("dispatch: assigned → first report of its agent (accepted)", "assigned", "agent"),
      new Phase("agent: accepted → container created (engine)", "agent", "engine create"),
      new Phase("engine: container created → started", "engine create", "engine start"),
      new Phase("report: container started → running recorded", "engine start", "running"));

  public static void main(String[] args) throws IOException {
    Map<String, String> opt = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opt.put(args[i], args[i + 1]);
    }
    if (!opt.keySet().containsAll(List.of("--audit", "--events", "--called", "--returned"))) {
      System.err.println("usage: StartProfile --audit FILE --events FILE --called MS --returned MS"
          + " [--service NAME]");
      System.exit(2);
    }
    String service = opt.getOrDefault("--service", "b");
    long called = Long.parseLong(opt.get("--called"));
    long returned = Long.parseLong(opt.get("--returned"));

    // Per task: milestone -> epoch ms, the first time each is seen ("service" is one for all).
    Map<String, Map<String, Double>> tasks = new LinkedHashMap<>();
    Double serviceCreated = null;
    for (String line : Files.readAllLines(Path.of(opt.get("--audit")))) {
      JsonNode e = JSON.readTree(line);
      JsonNode attrs = e.path("attributes");
      double at = millis(Instant.parse(e.path("time").asText()));
      String type = e.path("type").asText();
      String action = e.path("action").asText();
      if (type.equals("service") && action.equals("create") && attrs.path("name").asText().equals(service)) {
        serviceCreated = serviceCreated == null ? at : serviceCreated;
      } else if (type.equals("task") && attrs.path(SERVICE_NAME).asText().equals(service)) {
        String state = attrs.path("state.new").asText();
        String milestone = action.equals("create") ? "created" : action.equals("assign") ? "assigned"
            : AGENT_STATES.contains(state) ? "agent" : state.equals("running") ? "running" : null;
        if (milestone != null) {
          tasks.computeIfAbsent(e.path("id").asText(), k -> new HashMap<>()).putIfAbsent(milestone, at);
        }
      }
    }
    for (String line : Files.readAllLines(Path.of(opt.get("--events")))) {
      JsonNode e = JSON.readTree(line);
      Map<String, Double> task = tasks.get(e.path("Actor").path("Attributes").path(TASK_ID).asText());
      if (task != null) {
        task.putIfAbsent("engine " + e.path("Action").asText(), e.path("timeNano").asLong() / 1e6);
      }
    }
    if (serviceCreated == null) {
      throw new IllegalStateException("the audit has no create of service " + service);
    }
    for (Map<String, Double> task : tasks.values()) {
      task.put("service", serviceCreated);
    }
    double lastRunning = tasks.values().stream().mapToDouble(t -> t.getOrDefault("running", Double.NaN))
        .filter(d -> !Double.isNaN(d)).max().orElse(Double.NaN);

    System.out.printf(Locale.ROOT, "%d tasks; times after the CLI's `service create` call (t0).%n%n", tasks.size());
    System.out.printf(Locale.ROOT, "- t0 → service created (stamped when the manager made the event, before"
        + " its journal write): %.0f ms%n", serviceCreated - called);
    System.out.printf(Locale.ROOT, "- service created → the CLI's create returned (the journal write, the"
        + " answer, the CLI's exit): %.0f ms%n", returned - serviceCreated);
    System.out.printf(Locale.ROOT, "- t0 → last task running recorded: %.2f s%n%n", (lastRunning - called) / 1000);
    System.out.println("| phase | tasks | median per task, ms | min–max per task, ms | wall clock, s after t0 |");
    System.out.println("| --- | ---: | ---: | ---: | --- |");
    for (Phase p : PHASES) {
      List<Double> d = new ArrayList<>();
      double first = Double.MAX_VALUE;
      double last = -Double.MAX_VALUE;
      for (Map<String, Double> task : tasks.values()) {
        Double from = task.get(p.from());
        Double to = task.get(p.to());
        if (from != null && to != null) {
          d.add(to - from);
          first = Math.min(first, from);
          last = Math.max(last, to);
        }
      }
      if (d.isEmpty()) {
        System.out.printf("| %s | 0 | n/a | n/a | n/a |%n", p.name());
        continue;
      }
      d.sort(null);
      int m = d.size() / 2;
      double median = d.size() % 2 == 1 ? d.get(m) : (d.get(m - 1) + d.get(m)) / 2;
      System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %.0f–%.0f | %.2f–%.2f |%n", p.name(), d.size(), median,
          d.get(0), d.get(d.size() - 1), (first - called) / 1000, (last - called) / 1000);
    }
    System.out.println();
    System.out.println("Journal writes are inside the phases: an event is stamped before it is written, and"
        + " when the write ends is recorded nowhere.");
  }

  private static double millis(Instant t) {
    return t.getEpochSecond() * 1000.0 + t.getNano() / 1e6;
  }
}
